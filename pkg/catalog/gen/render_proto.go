package main

import (
	"fmt"
	"strings"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

const (
	typedGoPackage = "github.com/bollard-dev/bollard/api/proto/bollard/okta/v1;oktav1"
	// confirmationField is the number of the confirmation field of every typed
	// request, far above any action's parameter count.
	confirmationField = 99
	// approvalField is the number of the approval_id field of every typed
	// request, as ExecuteRequest.approval_id.
	approvalField = 98
	commentWidth  = 80
)

// protoFieldName returns the typed request field name of a parameter: the
// snake_case of its catalog name ("userId" becomes "user_id"), whose
// protobuf JSON name is the catalog name again.
func protoFieldName(param string) string {
	var b strings.Builder
	for i, r := range param {
		if 'A' <= r && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// protoJSONName is protoc's JSON name of a field: underscores removed and
// the letter after each one upper-cased.
func protoJSONName(field string) string {
	var b strings.Builder
	upper := false
	for _, r := range field {
		switch {
		case r == '_':
			upper = true
		case upper && 'a' <= r && r <= 'z':
			b.WriteRune(r - ('a' - 'A'))
			upper = false
		default:
			b.WriteRune(r)
			upper = false
		}
	}
	return b.String()
}

// checkParamName refuses parameter names that cannot round-trip through a
// snake_case field name: the typed request's JSON name must be the catalog
// name exactly, since that is how the typed services map fields to params.
func checkParamName(name string) error {
	if name == "" || name[0] < 'a' || name[0] > 'z' {
		return fmt.Errorf("parameter %q must start with a lower-case letter", name)
	}
	for _, r := range name {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return fmt.Errorf("parameter %q must be lowerCamelCase letters and digits", name)
		}
	}
	if got := protoJSONName(protoFieldName(name)); got != name {
		return fmt.Errorf("parameter %q would have the JSON name %q", name, got)
	}
	if name == "confirmation" || name == "approvalId" {
		return fmt.Errorf("parameter %q collides with the confirmation or approval_id field", name)
	}
	return nil
}

// protoType is the field type of a parameter in a typed request. Ints and
// bools have presence so that an unset field is not sent, while 0 and false
// still can be.
func protoType(k catalog.Kind) (string, error) {
	switch k {
	case catalog.KindID, catalog.KindUserRef, catalog.KindString, catalog.KindEnum, catalog.KindTime, catalog.KindCursor:
		return "string", nil
	case catalog.KindInt:
		return "optional int64", nil
	case catalog.KindBool:
		return "optional bool", nil
	case catalog.KindObject:
		return "google.protobuf.Struct", nil
	default:
		return "", fmt.Errorf("unknown kind %q", k)
	}
}

// renderProto renders the typed service of one area: a .proto file in
// package bollard.okta.v1 with one RPC per action, a request message whose
// fields are the action's parameters in declaration order, and a response
// message with exactly the fields of bollard.v1.ExecuteResponse. The output
// depends only on the catalog.
func renderProto(area string) ([]byte, error) {
	ar, ok := catalog.LookupArea(area)
	if !ok {
		return nil, fmt.Errorf("render proto: unknown area %q", area)
	}
	actions := catalog.AreaActions(area)
	if len(actions) == 0 {
		return nil, fmt.Errorf("render proto: area %q has no actions", area)
	}

	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	for _, line := range generatedHeader {
		w("// %s\n", line)
	}
	w("\n")
	w("syntax = \"proto3\";\n\n")
	w("package %s;\n\n", catalog.TypedPackage)
	w("import \"bollard/v1/gateway.proto\";\n")
	w("import \"google/protobuf/struct.proto\";\n\n")
	w("option go_package = %q;\n\n", typedGoPackage)

	comment(&b, "",
		fmt.Sprintf("%s performs the actions of the %q area: %s", ar.Service, ar.Name, lowerFirst(sentence(ar.Description))),
		"",
		"Each RPC performs the catalog action named in its comment exactly as "+
			"bollard.v1.GatewayService/Execute does: the request's fields are the "+
			"action's parameters, keyed by their JSON names, and the response has "+
			"the fields of bollard.v1.ExecuteResponse. Policy, confirmation, audit "+
			"and errors are the same.")
	w("service %s {\n", ar.Service)
	for i, a := range actions {
		if i > 0 {
			w("\n")
		}
		comment(&b, "  ", rpcComment(a)...)
		w("  rpc %s(%sRequest) returns (%sResponse);\n", a.RPC, a.RPC, a.RPC)
	}
	w("}\n")

	for _, a := range actions {
		if err := renderRequest(&b, a); err != nil {
			return nil, fmt.Errorf("render proto: action %s: %w", a.Name, err)
		}
		renderResponse(&b, a)
	}
	return []byte(b.String()), nil
}

func rpcComment(a *catalog.Action) []string {
	lines := []string{
		a.Name + ": " + sentence(a.Description),
		"",
		fmt.Sprintf("Access: %s. Scope: %s. Destructive: %s.", a.Access, a.Scope, yesNo(a.Destructive)),
		fmt.Sprintf("Okta: %s %s.", a.Method, a.Path),
	}
	if a.Paginated() {
		lines = append(lines, fmt.Sprintf("Paginated: limit up to %d; pass next_cursor as after for the next page.", a.MaxLimit))
	}
	if a.Event != "" {
		lines = append(lines, "Event: "+a.Event+".")
	}
	return lines
}

func renderRequest(b *strings.Builder, a *catalog.Action) error {
	b.WriteString("\n")
	comment(b, "",
		fmt.Sprintf("%sRequest holds the parameters of %s.", a.RPC, a.Name),
		"",
		"Each field's JSON name is the parameter's catalog name, as in "+
			"bollard.v1.ExecuteRequest.params. A field left unset (an empty "+
			"string, an unset optional field, no body) is not sent to Okta.")
	fmt.Fprintf(b, "message %sRequest {\n", a.RPC)
	seen := map[string]bool{}
	for i, p := range a.Params {
		if err := checkParamName(p.Name); err != nil {
			return err
		}
		field := protoFieldName(p.Name)
		if seen[field] {
			return fmt.Errorf("parameter %q declared twice", p.Name)
		}
		seen[field] = true
		typ, err := protoType(p.Kind)
		if err != nil {
			return fmt.Errorf("parameter %s: %w", p.Name, err)
		}
		lines, err := fieldComment(p)
		if err != nil {
			return err
		}
		if i > 0 {
			b.WriteString("\n")
		}
		comment(b, "  ", lines...)
		fmt.Fprintf(b, "  %s %s = %d;\n", typ, field, i+1)
	}
	if len(a.Params) >= approvalField {
		return fmt.Errorf("%d parameters collide with the approval_id field %d", len(a.Params), approvalField)
	}
	if len(a.Params) > 0 {
		b.WriteString("\n")
	}
	comment(b, "  ",
		"The id of an approval a person gave, from a previous call refused "+
			"because policy requires one, as in bollard.v1.ExecuteRequest.approval_id. "+
			"Leave empty otherwise.")
	fmt.Fprintf(b, "  string approval_id = %d;\n\n", approvalField)
	comment(b, "  ",
		"The confirmation token of a previous call refused because policy "+
			"requires confirmation, as in bollard.v1.ExecuteRequest.confirmation. "+
			"Leave empty otherwise.")
	fmt.Fprintf(b, "  string confirmation = %d;\n", confirmationField)
	b.WriteString("}\n")
	return nil
}

func fieldComment(p catalog.Param) ([]string, error) {
	phrase, err := kindPhrase(p)
	if err != nil {
		return nil, err
	}
	var loc string
	switch p.In {
	case catalog.InPath:
		loc = "Path parameter {" + p.Name + "}"
	case catalog.InQuery:
		loc = "Query parameter " + p.Name
	case catalog.InBody:
		loc = "The request body"
	default:
		return nil, fmt.Errorf("parameter %s has unknown location %q", p.Name, p.In)
	}
	req := "Optional."
	if p.Required {
		req = "Required."
	}
	second := req + " " + loc
	if phrase != "" {
		second += ": " + phrase
	}
	return []string{sentence(p.Description), second + "."}, nil
}

// renderResponse writes the action's response message. Its fields must stay
// identical to bollard.v1.ExecuteResponse (names, numbers, types): the server
// marshals an ExecuteResponse and the typed client decodes the same bytes.
func renderResponse(b *strings.Builder, a *catalog.Action) {
	next := "The cursor of the next page: pass it as after to fetch the next " +
		"page. Empty on the last page."
	if !a.Paginated() {
		next = "Always empty: " + a.Name + " does not paginate."
	}
	b.WriteString("\n")
	comment(b, "",
		fmt.Sprintf("%sResponse is the answer to %s. It has exactly the fields of "+
			"bollard.v1.ExecuteResponse, so the two are the same on the wire.", a.RPC, a.RPC))
	fmt.Fprintf(b, "message %sResponse {\n", a.RPC)
	comment(b, "  ", "Okta's JSON response body as Okta sent it; null_value when Okta answered 204 No Content.")
	b.WriteString("  google.protobuf.Value result = 1;\n\n")
	comment(b, "  ", next)
	b.WriteString("  string next_cursor = 2;\n\n")
	comment(b, "  ", "The identifier of the policy decision that allowed this call.")
	b.WriteString("  string decision_id = 3;\n\n")
	comment(b, "  ", "Details of the HTTP call made to Okta: status, request id, rate limit.")
	b.WriteString("  bollard.v1.OktaCall okta = 4;\n")
	b.WriteString("}\n")
}

// comment writes lines as a // comment wrapped at commentWidth columns; an
// empty line separates paragraphs.
func comment(b *strings.Builder, indent string, lines ...string) {
	prefix := indent + "//"
	for _, line := range lines {
		words := strings.Fields(line)
		if len(words) == 0 {
			b.WriteString(prefix + "\n")
			continue
		}
		cur := prefix
		for i, word := range words {
			if i > 0 && len(cur)+1+len(word) > commentWidth {
				b.WriteString(cur + "\n")
				cur = prefix
			}
			cur += " " + word
		}
		b.WriteString(cur + "\n")
	}
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	if c := s[0]; 'A' <= c && c <= 'Z' && (len(s) == 1 || s[1] < 'A' || s[1] > 'Z') {
		return string(c+'a'-'A') + s[1:]
	}
	return s
}
