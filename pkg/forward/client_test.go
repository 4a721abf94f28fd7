package forward

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

const token = "00secret-token-value"

func bind(t *testing.T, action string, params map[string]any) *catalog.Call {
	t.Helper()
	call, err := catalog.Bind(action, params)
	if err != nil {
		t.Fatal(err)
	}
	return call
}

func newClient(t *testing.T, h http.HandlerFunc, opts ...Option) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, append([]Option{WithAPIToken(token)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDoBuildsTheOktaRequest(t *testing.T) {
	var got *http.Request
	var gotBody string
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		got = r
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.Header().Set("X-Okta-Request-Id", "req-1")
		w.Header().Set("X-Rate-Limit-Limit", "600")
		w.Header().Set("X-Rate-Limit-Remaining", "599")
		w.Header().Set("X-Rate-Limit-Reset", "1790000000")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"id":"00u1", "unknownField": {"x": [1, 2.50]}}`)
	})
	call := bind(t, "users.update", map[string]any{"userId": "o'brien@example.com", "strict": true, "body": map[string]any{"profile": map[string]any{"title": "Eng"}}})
	resp, err := c.Do(t.Context(), call, "dec-123")
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != "POST" || got.URL.EscapedPath() != "/api/v1/users/o%27brien@example.com" || got.URL.RawQuery != "strict=true" {
		t.Errorf("request = %s %s?%s", got.Method, got.URL.EscapedPath(), got.URL.RawQuery)
	}
	if h := got.Header.Get("Authorization"); h != "SSWS "+token {
		t.Errorf("Authorization = %q", h)
	}
	if ua := got.Header.Get("User-Agent"); !strings.Contains(ua, "bollard/") || !strings.Contains(ua, "dec-123") {
		t.Errorf("User-Agent = %q, want bollard and the decision id", ua)
	}
	if got.Header.Get("Content-Type") != "application/json" || gotBody != `{"profile":{"title":"Eng"}}` {
		t.Errorf("body = %q (%s)", gotBody, got.Header.Get("Content-Type"))
	}
	if string(resp.Body) != `{"id":"00u1", "unknownField": {"x": [1, 2.50]}}` {
		t.Errorf("body not passed through unchanged: %s", resp.Body)
	}
	if resp.RequestID != "req-1" || resp.RateLimit != (RateLimit{600, 599, 1790000000}) || resp.Status != 200 {
		t.Errorf("call info = %+v", resp)
	}
}

func TestNextCursor(t *testing.T) {
	tests := []struct {
		name  string
		links []string
		want  string
	}{
		{"separate headers", []string{`<https://o.okta.com/api/v1/users?limit=2>; rel="self"`, `<https://o.okta.com/api/v1/users?after=00u3&limit=2>; rel="next"`}, "00u3"},
		{"comma joined", []string{`<https://o.okta.com/api/v1/users?limit=2>; rel="self", <https://o.okta.com/api/v1/users?after=00u9&limit=2>; rel="next"`}, "00u9"},
		{"comma inside url", []string{`<https://o.okta.com/api/v1/logs?filter=a,b&after=c%2Cd>; rel="next"`}, "c,d"},
		{"last page", []string{`<https://o.okta.com/api/v1/users?limit=2>; rel="self"`}, ""},
		{"no header", nil, ""},
		{"garbage", []string{`nonsense; rel=next`, `<`}, ""},
		{"unquoted rel", []string{`<https://o.okta.com/x?after=z>; rel=next`}, "z"},
		{"oversized cursor", []string{`<https://o.okta.com/x?after=` + strings.Repeat("a", 600) + `>; rel="next"`}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextCursor(tc.links); got != tc.want {
				t.Errorf("nextCursor = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDoReturnsNextCursorOnlyForLists(t *testing.T) {
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Link", `<http://x/api/v1/users?after=00u2&limit=1>; rel="next"`)
		io.WriteString(w, `[]`)
	})
	resp, err := c.Do(t.Context(), bind(t, "users.list", map[string]any{"limit": 1.0}), "d")
	if err != nil || resp.NextCursor != "00u2" {
		t.Fatalf("list: cursor %q, err %v", resp.NextCursor, err)
	}
	resp, err = c.Do(t.Context(), bind(t, "users.get", map[string]any{"userId": "00u1"}), "d")
	if err != nil || resp.NextCursor != "" {
		t.Fatalf("get: cursor %q, err %v", resp.NextCursor, err)
	}
}

func TestDoMapsOktaErrors(t *testing.T) {
	tests := []struct {
		status   int
		body     string
		header   map[string]string
		kind     Kind
		code     string
		causes   int
		retryMin time.Duration
	}{
		{400, `{"errorCode":"E0000001","errorSummary":"Api validation failed: login","errorCauses":[{"errorSummary":"login: already exists"}]}`, nil, KindBadRequest, "E0000001", 1, 0},
		{401, `{"errorCode":"E0000011","errorSummary":"Invalid token provided"}`, nil, KindCredential, "E0000011", 0, 0},
		{401, `{"errorCode":"E0000004","errorSummary":"Authentication failed"}`, nil, KindCredential, "E0000004", 0, 0},
		{405, `{"errorCode":"E0000022","errorSummary":"The endpoint does not support the provided HTTP method"}`, nil, KindUnsupported, "E0000022", 0, 0},
		{403, `{"errorCode":"E0000006","errorSummary":"You do not have permission"}`, nil, KindCredential, "E0000006", 0, 0},
		{403, `{"errorCode":"E0000056","errorSummary":"Delete application forbidden."}`, nil, KindRejected, "E0000056", 0, 0},
		{404, `{"errorCode":"E0000007","errorSummary":"Not found"}`, nil, KindNotFound, "E0000007", 0, 0},
		{429, `{"errorCode":"E0000047","errorSummary":"rate limit"}`, map[string]string{"X-Rate-Limit-Reset": "1790000030", "Date": time.Unix(1790000000, 0).UTC().Format(http.TimeFormat)}, KindRateLimited, "E0000047", 0, 30 * time.Second},
		{429, `not json`, nil, KindRateLimited, "", 0, time.Second},
		{500, `{"errorCode":"E0000009","errorSummary":"Internal Server Error"}`, nil, KindUnavailable, "E0000009", 0, 0},
		{503, ``, nil, KindUnavailable, "", 0, 0},
	}
	for _, tc := range tests {
		// In a bubble: the 429 without a reset is resent after a second,
		// the 503 after a back-off, both on the bubble's clock.
		t.Run(string(tc.kind)+"_"+tc.code, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newMemClient(t, func(w http.ResponseWriter, r *http.Request) {
					for k, v := range tc.header {
						w.Header().Set(k, v)
					}
					w.Header().Set("X-Okta-Request-Id", "req-e")
					w.WriteHeader(tc.status)
					io.WriteString(w, tc.body)
				})
				_, err := c.Do(t.Context(), bind(t, "users.get", map[string]any{"userId": "00u1"}), "d")
				var oe *Error
				if !errors.As(err, &oe) {
					t.Fatalf("err = %v, want *Error", err)
				}
				if oe.Kind != tc.kind || oe.Code != tc.code || len(oe.Causes) != tc.causes || oe.Status != tc.status || oe.RequestID != "req-e" {
					t.Errorf("error = %+v", oe)
				}
				if oe.RetryAfter < tc.retryMin {
					t.Errorf("RetryAfter = %v, want at least %v", oe.RetryAfter, tc.retryMin)
				}
				if strings.Contains(err.Error(), token) {
					t.Error("error text contains the credential")
				}
			})
		})
	}
}

func TestDoTimeoutAndCancel(t *testing.T) {
	release := make(chan struct{})
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, WithTimeout(50*time.Millisecond))
	defer close(release)
	_, err := c.Do(t.Context(), bind(t, "users.get", map[string]any{"userId": "00u1"}), "d")
	var oe *Error
	if !errors.As(err, &oe) || oe.Kind != KindTimeout {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if strings.Contains(err.Error(), "/api/v1/users/00u1") {
		t.Errorf("error text leaks the request URL: %v", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = c.Do(ctx, bind(t, "users.get", map[string]any{"userId": "00u1"}), "d")
	if !errors.As(err, &oe) || oe.Kind != KindCanceled {
		t.Fatalf("err = %v, want canceled", err)
	}
}

func TestDoDoesNotFollowRedirects(t *testing.T) {
	leaked := make(chan string, 1)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked <- r.Header.Get("Authorization")
	}))
	defer other.Close()
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
	})
	_, err := c.Do(t.Context(), bind(t, "users.get", map[string]any{"userId": "00u1"}), "d")
	var oe *Error
	if !errors.As(err, &oe) || oe.Kind != KindRejected || oe.Status != http.StatusFound {
		t.Fatalf("err = %v, want the redirect reported as an error", err)
	}
	select {
	case h := <-leaked:
		t.Fatalf("redirect was followed (Authorization %q)", h)
	default:
	}
}

func TestDoBoundsResponseSize(t *testing.T) {
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `"`+strings.Repeat("a", 2048)+`"`)
	}, WithMaxResponseBytes(1024))
	_, err := c.Do(t.Context(), bind(t, "users.get", map[string]any{"userId": "00u1"}), "d")
	var oe *Error
	if !errors.As(err, &oe) || oe.Kind != KindUnavailable {
		t.Fatalf("err = %v, want unavailable", err)
	}
}

func TestParseOrgURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://example.okta.com":  true,
		"https://example.okta.com/": true,
		"http://127.0.0.1:8080":     true,
		"http://[::1]:8080":         true,
		// Plain http only to a literal loopback IP: a name is resolved at
		// use, so it can lead anywhere, and the token goes with it.
		"http://127.attacker.example":  false,
		"http://127.0.0.1.nip.io":      false,
		"http://localhost:1234":        false,
		"http://example.okta.com":      false,
		"https://u:p@example.okta.com": false,
		"https://example.okta.com/api": false,
		"https://example.okta.com?x=1": false,
		"example.okta.com":             false,
		"ftp://example.okta.com":       false,
		"":                             false,
	} {
		if _, err := ParseOrgURL(raw); (err == nil) != ok {
			t.Errorf("ParseOrgURL(%q) err = %v, want ok=%v", raw, err, ok)
		}
	}
	if _, err := New("https://example.okta.com"); err == nil {
		t.Error("New without a token succeeded")
	}
}
