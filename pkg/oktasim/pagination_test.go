package oktasim

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// walk follows rel="next" links from path and returns every id seen and the
// number of pages.
func walk(t *testing.T, e *env, path string) ([]string, int) {
	t.Helper()
	var all []string
	pages := 0
	next := path
	for next != "" {
		pages++
		if pages > 100 {
			t.Fatalf("more than 100 pages from %s", path)
		}
		resp := e.do("GET", next, nil).want(t, 200)
		items := resp.array(t)
		l := links(t, resp.header)
		if !strings.HasPrefix(l["self"], e.srv.URL+"/api/v1/") {
			t.Fatalf("self link %q is not absolute on the request's host", l["self"])
		}
		all = append(all, ids(items)...)
		next = l["next"]
		if next != "" && !strings.HasPrefix(next, e.srv.URL+"/api/v1/") {
			t.Fatalf("next link %q is not absolute on the request's host", next)
		}
		if next != "" && len(items) == 0 {
			t.Fatalf("empty page with a next link")
		}
	}
	return all, pages
}

func TestPaginationWalksEveryPage(t *testing.T) {
	tests := []struct {
		name, path string
		limit      int
	}{
		{"users", "/api/v1/users", 2},
		{"groups", "/api/v1/groups", 2},
		{"group members", "/api/v1/groups/" + SeedGroupEveryone + "/users", 3},
		{"apps", "/api/v1/apps", 1},
		{"app users", "/api/v1/apps/" + SeedAppSalesforce + "/users", 2},
		{"policies", "/api/v1/policies?type=ACCESS_POLICY", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			sep := "?"
			if strings.Contains(tt.path, "?") {
				sep = "&"
			}
			whole := ids(e.do("GET", tt.path, nil).want(t, 200).array(t))
			if len(whole) < 2 {
				t.Fatalf("fixture too small: %d items", len(whole))
			}
			got, pages := walk(t, e, fmt.Sprintf("%s%slimit=%d", tt.path, sep, tt.limit))
			if !slices.Equal(got, whole) {
				t.Errorf("paged ids %v, want %v", got, whole)
			}
			if want := (len(whole) + tt.limit - 1) / tt.limit; pages != want {
				t.Errorf("%d pages, want %d", pages, want)
			}
		})
	}
}

func TestLinkHeaderFormat(t *testing.T) {
	e := newEnv(t)
	resp := e.do("GET", "/api/v1/users?limit=2", nil).want(t, 200)
	got := resp.header.Values("Link")
	page := ids(resp.array(t))
	want := []string{
		"<" + e.srv.URL + `/api/v1/users?limit=2>; rel="self"`,
		"<" + e.srv.URL + "/api/v1/users?after=" + sealCursor(e.sim.secret, "/api/v1/users", page[1]) + `&limit=2>; rel="next"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("Link headers\n got %q\nwant %q", got, want)
	}
	// The last page carries only rel="self".
	last := e.do("GET", "/api/v1/users?limit=200", nil).want(t, 200)
	if l := links(t, last.header); len(l) != 1 || l["self"] == "" {
		t.Errorf("last page links = %v", l)
	}
}

func TestLimitIsCappedAndValidated(t *testing.T) {
	e := newEnv(t)
	// 250 more users so that the users maximum (200) matters.
	e.sim.mu.Lock()
	for i := range 250 {
		u := &user{id: e.sim.newID(prefixUser), status: StatusActive, created: testNow, lastUpdated: testNow, provider: "OKTA",
			profile: map[string]any{"login": fmt.Sprintf("bulk%03d@example.com", i)}}
		e.sim.putUser(u)
	}
	e.sim.mu.Unlock()

	resp := e.do("GET", "/api/v1/users?limit=500", nil).want(t, 200)
	if n := len(resp.array(t)); n != usersMax {
		t.Errorf("limit=500 returned %d users, want the maximum %d", n, usersMax)
	}
	if links(t, resp.header)["next"] == "" {
		t.Errorf("capped page has no next link")
	}
	if n := len(e.do("GET", "/api/v1/users", nil).want(t, 200).array(t)); n != usersDefault {
		t.Errorf("default page has %d users, want %d", n, usersDefault)
	}
	if n := len(e.do("GET", "/api/v1/users?q=bulk", nil).want(t, 200).array(t)); n != usersQueryDefault {
		t.Errorf("q page has %d users, want Okta's q default %d", n, usersQueryDefault)
	}
	if n := len(e.do("GET", "/api/v1/apps?limit=1000", nil).want(t, 200).array(t)); n != 4 {
		t.Errorf("apps with a large limit = %d, want all 4", n)
	}
	for _, bad := range []string{"0", "-3", "ten", "1.5"} {
		t.Run("limit="+bad, func(t *testing.T) {
			e.do("GET", "/api/v1/users?limit="+url.QueryEscape(bad), nil).wantError(t, 400, CodeValidation)
		})
	}
}

func TestAfterCursor(t *testing.T) {
	e := newEnv(t)
	cursor := func(path, key string) string { return sealCursor(e.sim.secret, path, key) }
	// A cursor past every id gives an empty last page, as Okta does.
	resp := e.do("GET", "/api/v1/users?after="+cursor("/api/v1/users", "zzzz"), nil).want(t, 200)
	if n := len(resp.array(t)); n != 0 {
		t.Errorf("after zzzz returned %d users", n)
	}
	// A deleted cursor object still pages on from where it was.
	first := ids(e.do("GET", "/api/v1/groups?limit=2", nil).want(t, 200).array(t))
	e.sim.mu.Lock()
	delete(e.sim.groups, first[1])
	e.sim.mu.Unlock()
	rest := ids(e.do("GET", "/api/v1/groups?after="+cursor("/api/v1/groups", first[1]), nil).want(t, 200).array(t))
	if len(rest) == 0 || rest[0] <= first[1] {
		t.Errorf("after a deleted cursor got %v", rest)
	}

	// Cursors are opaque: anything Okta did not hand out is refused, with
	// the after parameter named.
	good := cursor("/api/v1/users", SeedUserAlice)
	tampered := []byte(good)
	tampered[3] ^= 1
	bad := map[string]string{
		"raw id":             "/api/v1/users?after=" + SeedUserAlice,
		"tampered":           "/api/v1/users?after=" + string(tampered),
		"truncated":          "/api/v1/users?after=" + good[:len(good)-2],
		"not base64":         "/api/v1/users?after=%21%21%21",
		"other list":         "/api/v1/groups?after=" + good,
		"other key":          "/api/v1/users?after=" + sealCursor([]byte("another org's secret"), "/api/v1/users", SeedUserAlice),
		"log event uuid":     "/api/v1/logs?after=not-an-event",
		"log cursor forged":  "/api/v1/logs?after=" + sealCursor([]byte("x"), "/api/v1/logs", "3"),
		"group members list": "/api/v1/groups/" + SeedGroupEngineering + "/users?after=" + good,
	}
	for name, path := range bad {
		t.Run(name, func(t *testing.T) {
			got := e.do("GET", path, nil).wantError(t, 400, CodeValidation)
			if got.ErrorSummary != "Api validation failed: after" || len(got.ErrorCauses) != 1 ||
				!strings.HasPrefix(got.ErrorCauses[0].ErrorSummary, "after:") {
				t.Errorf("error = %+v", got)
			}
		})
	}
	e.do("GET", "/api/v1/users?after="+good, nil).want(t, 200)
}

// TestPagingUnderChanges creates and deletes users between the pages of a
// walk: every user that exists throughout is seen exactly once, in order.
func TestPagingUnderChanges(t *testing.T) {
	e := newEnv(t, WithExtraUsers(50))
	before := ids(e.do("GET", "/api/v1/users?limit=200", nil).want(t, 200).array(t))
	var seen []string
	next := "/api/v1/users?limit=7"
	for i := 0; next != ""; i++ {
		resp := e.do("GET", next, nil).want(t, 200)
		seen = append(seen, ids(resp.array(t))...)
		next = links(t, resp.header)["next"]
		// Churn: a new user, and the removal of a user not yet reached.
		e.do("POST", "/api/v1/users", withPassword(newUserBody(fmt.Sprintf("churn%d@example.com", i)))).want(t, 200)
		if victim := ExtraUserID(49 - i); i < 10 {
			e.do("DELETE", "/api/v1/users/"+victim, nil).want(t, 204)
			e.do("DELETE", "/api/v1/users/"+victim, nil).want(t, 204)
		}
	}
	if !slices.IsSorted(seen) || len(slices.Compact(slices.Clone(seen))) != len(seen) {
		t.Fatalf("walk is not strictly ascending: %v", seen)
	}
	for _, id := range before {
		if e.sim.UserExists(id) && !slices.Contains(seen, id) {
			t.Errorf("user %s existed throughout but was skipped", id)
		}
	}
}

func TestLogsPaginateInBothOrders(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{SeedUserAlice, SeedUserBob, SeedUserCarol} {
		e.do("POST", "/api/v1/users/"+id+"/lifecycle/suspend", nil).want(t, 200)
	}
	all := e.sim.Events()
	var asc []string
	for _, ev := range all {
		asc = append(asc, ev.UUID)
	}
	uuids := func(path string) []string {
		var out []string
		next := path
		for next != "" {
			resp := e.do("GET", next, nil).want(t, 200)
			for _, ev := range resp.array(t) {
				out = append(out, str(ev, "uuid"))
			}
			next = links(t, resp.header)["next"]
		}
		return out
	}
	if got := uuids("/api/v1/logs?limit=3"); !slices.Equal(got, asc) {
		t.Errorf("ascending walk %v, want %v", got, asc)
	}
	desc := slices.Clone(asc)
	slices.Reverse(desc)
	if got := uuids("/api/v1/logs?limit=4&sortOrder=DESCENDING"); !slices.Equal(got, desc) {
		t.Errorf("descending walk %v, want %v", got, desc)
	}
}
