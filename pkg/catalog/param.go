package catalog

// Location says where a parameter goes in the Okta request.
type Location string

// Parameter locations.
const (
	InPath  Location = "path"
	InQuery Location = "query"
	InBody  Location = "body"
)

// Kind is the format a parameter's value must have.
type Kind string

// Parameter kinds. Each kind has a bounded length or range.
const (
	// KindID is an Okta object id: letters, digits, '-' and '_', at most 64 characters.
	KindID Kind = "id"
	// KindUserRef is a user id, login or login short name (Okta accepts all
	// three where a user is addressed by {userId} in users.* and lifecycle).
	KindUserRef Kind = "user_ref"
	// KindString is free text such as a search expression, at most MaxLen bytes.
	KindString Kind = "string"
	// KindInt is a JSON number with an integral value in [Min, Max].
	KindInt Kind = "int"
	// KindBool is a JSON boolean.
	KindBool Kind = "bool"
	// KindEnum is one of Enum.
	KindEnum Kind = "enum"
	// KindTime is an RFC 3339 timestamp.
	KindTime Kind = "time"
	// KindCursor is an opaque pagination cursor returned as next_cursor.
	KindCursor Kind = "cursor"
	// KindObject is a JSON object (the request body).
	KindObject Kind = "object"
)

// Param declares one parameter of an action.
type Param struct {
	Name        string
	In          Location
	Kind        Kind
	Required    bool
	Description string
	// MaxLen bounds the length of string-like kinds (bytes, after validation).
	MaxLen int
	// Min and Max bound KindInt.
	Min, Max int
	// Enum lists the accepted values of KindEnum.
	Enum []string
	// Query says how a string parameter of a list reaches the attributes of
	// the objects listed; empty for other parameters. A query on an
	// attribute an agent may not see would reveal it (a prefix search is an
	// oracle), so the sidecar refuses one.
	Query QueryRole
	// Matches are the attributes a QueryText parameter matches, as dotted
	// paths into each object listed.
	Matches []string
}

// QueryRole is how a list parameter reaches the attributes of the objects
// listed.
type QueryRole string

// The ways a parameter queries attributes.
const (
	// QueryExpression: an Okta search or filter expression that names
	// attributes (`profile.department eq "Eng"`).
	QueryExpression QueryRole = "expression"
	// QueryAttribute: the name of one attribute (sortBy).
	QueryAttribute QueryRole = "attribute"
	// QueryText: free text that Okta matches against fixed attributes
	// (Matches), such as q.
	QueryText QueryRole = "text"
)

// Limits that apply whatever the declaration says.
const (
	maxIDLen      = 64
	maxUserRefLen = 100 // Okta's maximum login length
	maxCursorLen  = 512
	maxTimeLen    = 64
	// MaxBodyBytes bounds the JSON-encoded request body forwarded to Okta.
	MaxBodyBytes = 64 << 10
	// MaxParams bounds the number of top-level parameters in one request.
	MaxParams = 32
)

func pathID(name, desc string) Param {
	return Param{Name: name, In: InPath, Kind: KindID, Required: true, Description: desc, MaxLen: maxIDLen}
}

func pathUser(desc string) Param {
	return Param{Name: "userId", In: InPath, Kind: KindUserRef, Required: true, Description: desc, MaxLen: maxUserRefLen}
}

func qString(name string, maxLen int, desc string) Param {
	return Param{Name: name, In: InQuery, Kind: KindString, Description: desc, MaxLen: maxLen}
}

// qExpr is a search or filter expression parameter.
func qExpr(name string, maxLen int, desc string) Param {
	p := qString(name, maxLen, desc)
	p.Query = QueryExpression
	return p
}

// qSort is a parameter naming the attribute to sort by.
func qSort(desc string) Param {
	p := qString("sortBy", qLen, desc)
	p.Query = QueryAttribute
	return p
}

// qText is q: free text Okta matches against the attributes listed.
func qText(desc string, matches ...string) Param {
	p := qString("q", qLen, desc)
	p.Query, p.Matches = QueryText, matches
	return p
}

func qBool(name, desc string) Param {
	return Param{Name: name, In: InQuery, Kind: KindBool, Description: desc}
}

func qEnum(name string, required bool, desc string, values ...string) Param {
	return Param{Name: name, In: InQuery, Kind: KindEnum, Required: required, Description: desc, Enum: values}
}

func qTime(name, desc string) Param {
	return Param{Name: name, In: InQuery, Kind: KindTime, Description: desc, MaxLen: maxTimeLen}
}

func qLimit(maxLimit int) Param {
	return Param{Name: "limit", In: InQuery, Kind: KindInt, Description: "page size", Min: 1, Max: maxLimit}
}

func qAfter() Param {
	return Param{Name: "after", In: InQuery, Kind: KindCursor, Description: "the next_cursor of the previous page", MaxLen: maxCursorLen}
}

func body(required bool, desc string) Param {
	return Param{Name: "body", In: InBody, Kind: KindObject, Required: required, Description: desc}
}
