package forward

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

// sent is what a server saw of one request.
type sent struct {
	Method, URI string
	Header      http.Header
	Body        string
}

// TestNewRequestIsWhatDoSends: NewRequest, sent with a plain client,
// reaches Okta exactly as Client.Do's request does (method, escaped path,
// query, every header, body), so a tool built on it (the load generator's
// baseline) sends what Bollard sends.
func TestNewRequestIsWhatDoSends(t *testing.T) {
	var got []sent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, sent{Method: r.Method, URI: r.RequestURI, Header: r.Header.Clone(), Body: string(b)})
		io.WriteString(w, `{}`)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, WithAPIToken(token), WithUserAgent("bollard/test"))
	if err != nil {
		t.Fatal(err)
	}
	org, err := ParseOrgURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := SSWS(token)
	if err != nil {
		t.Fatal(err)
	}
	lookup := bind(t, "users.get", map[string]any{"userId": "00u1"})
	lookup.Lookup = true
	for name, call := range map[string]*catalog.Call{
		"escaped path":   bind(t, "users.get", map[string]any{"userId": "o'brien+x@example.com"}),
		"query":          bind(t, "users.list", map[string]any{"limit": 5.0, "search": `status eq "ACTIVE"`}),
		"body and query": bind(t, "users.update", map[string]any{"userId": "00u1", "strict": true, "body": map[string]any{"profile": map[string]any{"title": "Eng"}}}),
		"lookup":         lookup,
	} {
		t.Run(name, func(t *testing.T) {
			got = nil
			if _, err := c.Do(t.Context(), call, "dec-1"); err != nil {
				t.Fatal(err)
			}
			req, err := NewRequest(t.Context(), org, call, "bollard/test", "dec-1", cred)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if len(got) != 2 {
				t.Fatalf("server saw %d requests, want 2", len(got))
			}
			if !reflect.DeepEqual(got[0], got[1]) {
				t.Errorf("NewRequest differs from Client.Do:\nDo:         %+v\nNewRequest: %+v", got[0], got[1])
			}
		})
	}
}
