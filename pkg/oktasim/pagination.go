package oktasim

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Okta's page sizes per list endpoint: the default when limit is absent and
// the maximum a larger limit is capped to.
const (
	usersDefault, usersMax           = 200, 200
	usersQueryDefault                = 10 // with q, Okta returns 10 unless told otherwise
	groupsDefault, groupsMax         = 10000, 10000
	membersDefault, membersMax       = 1000, 1000
	userGroupsDefault, userGroupsMax = 200, 200
	appsDefault, appsMax             = 20, 200
	appUsersDefault, appUsersMax     = 50, 500
	policiesDefault, policiesMax     = 20, 200
	logsDefault, logsMax             = 100, 1000
	maxEvents                        = 100000 // the log keeps the newest events only
)

type pageReq struct {
	limit int
	after string // the position the cursor names, "" for the first page
}

// parsePage reads limit and after. Okta caps a limit above the maximum rather
// than failing, but refuses one that is not a positive number, and refuses
// an after cursor it did not issue for this list.
func parsePage(c *call, def, max int) (pageReq, error) {
	p := pageReq{limit: def}
	if vs, ok := c.query["limit"]; ok && len(vs) > 0 {
		n, err := strconv.Atoi(vs[0])
		if err != nil || n < 1 {
			return p, errValidation("limit", "limit: The value must be a number greater than 0.")
		}
		p.limit = min(n, max)
	}
	if after := c.query.Get("after"); after != "" {
		key, ok := openCursor(c.secret, c.listPath(), after)
		if !ok {
			return p, errValidation("after", "after: The cursor is not valid.")
		}
		p.after = key
	}
	return p, nil
}

// pageByID returns one page of items, which must be sorted by id, and the
// cursor of the next page ("" on the last page). The cursor is the last id
// returned and the page starts after it, as Okta's does: an id deleted
// between two pages does not break the walk.
func pageByID[T any](items []T, id func(T) string, p pageReq) ([]T, string) {
	start := 0
	if p.after != "" {
		start = sort.Search(len(items), func(i int) bool { return id(items[i]) > p.after })
	}
	end := min(start+p.limit, len(items))
	out := items[start:end]
	if end < len(items) && end > start {
		return out, id(items[end-1])
	}
	return out, ""
}

// setLinks adds Okta's Link headers: always rel="self" (the request as
// sent), and rel="next" with an opaque after cursor for the position next
// while more pages remain. Okta sends one Link header per relation, with
// absolute URLs.
func (c *call) setLinks(next string) {
	path := c.r.URL.EscapedPath()
	self := c.base + path
	if c.r.URL.RawQuery != "" {
		self += "?" + c.r.URL.RawQuery
	}
	c.header.Add("Link", "<"+self+`>; rel="self"`)
	if next == "" {
		return
	}
	q := url.Values{}
	for k, vs := range c.query {
		q[k] = append([]string(nil), vs...)
	}
	q.Set("after", sealCursor(c.secret, c.listPath(), next))
	c.header.Add("Link", "<"+c.base+path+"?"+q.Encode()+`>; rel="next"`)
}

// listPath is the path a cursor is bound to: the request's, without the
// trailing slash the router ignores.
func (c *call) listPath() string {
	return strings.TrimSuffix(c.r.URL.EscapedPath(), "/")
}

// sortByID sorts items by their id.
func sortByID[T any](items []T, id func(T) string) {
	sort.Slice(items, func(i, j int) bool { return id(items[i]) < id(items[j]) })
}
