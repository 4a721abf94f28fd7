package catalog

import (
	"errors"
	"strings"
	"testing"
)

func TestBind(t *testing.T) {
	tests := []struct {
		name       string
		action     string
		params     map[string]any
		wantPath   string
		wantQuery  string
		wantBody   string
		violations []string // "field: substring"
	}{
		{name: "list with query", action: "users.list", params: map[string]any{"limit": 5.0, "search": `status eq "ACTIVE"`, "after": "00u1"},
			wantPath: "/api/v1/users", wantQuery: "after=00u1&limit=5&search=status+eq+%22ACTIVE%22"},
		{name: "login is escaped", action: "users.get", params: map[string]any{"userId": "ada+x@example.com"},
			wantPath: "/api/v1/users/ada+x@example.com"},
		{name: "two path params", action: "groups.add_member", params: map[string]any{"groupId": "00g1", "userId": "00u2"},
			wantPath: "/api/v1/groups/00g1/users/00u2"},
		{name: "body is re-encoded", action: "users.create", params: map[string]any{"activate": false, "body": map[string]any{"profile": map[string]any{"login": "a<b@example.com"}}},
			wantPath: "/api/v1/users", wantQuery: "activate=false", wantBody: `{"profile":{"login":"a<b@example.com"}}`},
		{name: "unknown action parameter", action: "users.get", params: map[string]any{"userId": "00u1", "admin": true},
			violations: []string{"params.admin: unknown parameter"}},
		{name: "missing required", action: "groups.add_member", params: map[string]any{"groupId": "00g1"},
			violations: []string{"params.userId: required"}},
		{name: "every problem at once", action: "users.list", params: map[string]any{"limit": 500.0, "sortOrder": "sideways", "q": 3.0},
			violations: []string{"params.q: must be a string", "params.sortOrder: must be one of", "params.limit: must be between 1 and 200"}},
		{name: "slash in id", action: "groups.get", params: map[string]any{"groupId": "00g1/../users"}, violations: []string{"params.groupId: must be an Okta id"}},
		{name: "dot dot in login", action: "users.get", params: map[string]any{"userId": "..@x"}, violations: []string{"params.userId: must not contain '..'"}},
		{name: "query in login", action: "users.get", params: map[string]any{"userId": "a?b=c"}, violations: []string{"params.userId: must be a user id"}},
		{name: "fragment in login", action: "users.get", params: map[string]any{"userId": "a#b"}, violations: []string{"params.userId: must be a user id"}},
		{name: "control character", action: "users.get", params: map[string]any{"userId": "a\nb"}, violations: []string{"params.userId: must not contain control characters"}},
		{name: "percent is refused", action: "users.get", params: map[string]any{"userId": "a%2Fb"}, violations: []string{"params.userId: must be a user id"}},
		{name: "too long id", action: "groups.get", params: map[string]any{"groupId": strings.Repeat("a", 65)}, violations: []string{"params.groupId: must be at most 64 bytes"}},
		{name: "empty id", action: "groups.get", params: map[string]any{"groupId": ""}, violations: []string{"params.groupId: must not be empty"}},
		{name: "fractional limit", action: "logs.list", params: map[string]any{"limit": 1.5}, violations: []string{"params.limit: must be a whole number"}},
		{name: "bad time", action: "logs.list", params: map[string]any{"since": "yesterday"}, violations: []string{"params.since: must be an RFC 3339 timestamp"}},
		{name: "good time", action: "logs.list", params: map[string]any{"since": "2026-11-28T00:00:00Z", "limit": 1000.0},
			wantPath: "/api/v1/logs", wantQuery: "limit=1000&since=2026-11-28T00%3A00%3A00Z"},
		{name: "body must be an object", action: "groups.create", params: map[string]any{"body": []any{1.0}}, violations: []string{"params.body: must be a JSON object"}},
		{name: "body too large", action: "groups.create", params: map[string]any{"body": map[string]any{"x": strings.Repeat("a", MaxBodyBytes)}}, violations: []string{"params.body: must be at most"}},
		{name: "required enum", action: "policies.list", params: map[string]any{}, violations: []string{"params.type: required"}},
		{name: "bool must be bool", action: "users.delete", params: map[string]any{"userId": "00u1", "sendEmail": "yes"}, violations: []string{"params.sendEmail: must be true or false"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			call, err := Bind(tc.action, tc.params)
			if len(tc.violations) > 0 {
				var verr *ValidationError
				if !errors.As(err, &verr) {
					t.Fatalf("err = %v, want a ValidationError", err)
				}
				if len(verr.Violations) != len(tc.violations) {
					t.Fatalf("violations = %+v, want %d", verr.Violations, len(tc.violations))
				}
				for _, want := range tc.violations {
					field, desc, _ := strings.Cut(want, ": ")
					found := false
					for _, v := range verr.Violations {
						if v.Field == field && strings.Contains(v.Description, desc) {
							found = true
						}
					}
					if !found {
						t.Errorf("no violation %q in %+v", want, verr.Violations)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Bind: %v", err)
			}
			if call.Path != tc.wantPath {
				t.Errorf("path = %q, want %q", call.Path, tc.wantPath)
			}
			if got := call.Query.Encode(); got != tc.wantQuery {
				t.Errorf("query = %q, want %q", got, tc.wantQuery)
			}
			if string(call.Body) != tc.wantBody {
				t.Errorf("body = %s, want %s", call.Body, tc.wantBody)
			}
		})
	}
}

func TestBindUnknownAction(t *testing.T) {
	_, err := Bind("users.destroy_everything", nil)
	if !errors.Is(err, ErrUnknownAction) {
		t.Fatalf("err = %v, want ErrUnknownAction", err)
	}
}

func TestBindResourceAndParams(t *testing.T) {
	call, err := Bind("factors.unenroll", map[string]any{"userId": "00u1", "factorId": "ufs2", "removeRecoveryEnrollment": true})
	if err != nil {
		t.Fatal(err)
	}
	if call.Resource["userId"] != "00u1" || call.Resource["factorId"] != "ufs2" || len(call.Resource) != 2 {
		t.Errorf("resource = %v", call.Resource)
	}
	if call.Params["removeRecoveryEnrollment"] != true || len(call.Params) != 3 {
		t.Errorf("params = %v", call.Params)
	}
}

func TestBindTooManyParams(t *testing.T) {
	params := map[string]any{}
	for i := 0; i <= MaxParams; i++ {
		params[strings.Repeat("p", i+1)] = "x"
	}
	var verr *ValidationError
	if _, err := Bind("users.list", params); !errors.As(err, &verr) || len(verr.Violations) != 1 {
		t.Fatalf("err = %v, want one violation", err)
	}
}

// FuzzBindPath checks that whatever an agent sends as a path parameter, the
// built path never leaves the action's template: no extra segment, no query,
// no fragment, no dot segment.
func FuzzBindPath(f *testing.F) {
	for _, s := range []string{"00u1", "ada@example.com", "../admin", "a/b", "a?b", "a#b", "%2e%2e", "a\x00b", "ü", ".", "a b", "'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		for _, name := range []string{"users.get", "groups.remove_member"} {
			call, err := Bind(name, map[string]any{"userId": id, "groupId": "00g1"})
			if err != nil {
				continue
			}
			segments := strings.Split(call.Path, "/")
			want := strings.Split(call.Action.Path, "/")
			if len(segments) != len(want) {
				t.Fatalf("%s: path %q has %d segments, template %d", name, call.Path, len(segments), len(want))
			}
			if strings.ContainsAny(call.Path, "?#%\\") {
				t.Fatalf("%s: path %q contains a reserved character", name, call.Path)
			}
			for _, s := range segments {
				if s == "." || s == ".." {
					t.Fatalf("%s: path %q has a dot segment", name, call.Path)
				}
			}
		}
	})
}

func TestWithQueryCopies(t *testing.T) {
	call, err := Bind("users.list", map[string]any{"limit": 2.0})
	if err != nil {
		t.Fatal(err)
	}
	next := call.WithQuery("after", "c1")
	if call.Query.Get("after") != "" || next.Query.Get("after") != "c1" || next.Query.Get("limit") != "2" {
		t.Errorf("original %v, copy %v", call.Query, next.Query)
	}
}
