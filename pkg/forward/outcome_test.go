package forward

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// newSimClient is a client of a fresh simulator behind httptest.
func newSimClient(t *testing.T, opts ...Option) (*Client, *oktasim.Sim) {
	t.Helper()
	sim := oktasim.New(oktasim.WithAPIToken(token))
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, append([]Option{WithAPIToken(token)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, sim
}

func createParams(login string) map[string]any {
	return map[string]any{"activate": false, "body": map[string]any{"profile": map[string]any{
		"firstName": "Nia", "lastName": "New", "email": login, "login": login,
	}}}
}

// TestCutOffWriteIsReportedAsOutcomeUnknown: a write whose connection fails
// once the request may have left cannot be told from one Okta applied. It is
// reported as such, never as Okta being down, and never sent again.
func TestCutOffWriteIsReportedAsOutcomeUnknown(t *testing.T) {
	t.Run("applied, then the connection reset", func(t *testing.T) {
		c, sim := newSimClient(t)
		sim.InjectFault(oktasim.Fault{Method: "POST", PathPrefix: "/api/v1/users", AbortAfter: true, Count: 1})
		_, err := c.Do(t.Context(), bind(t, "users.create", createParams("cut.off@example.com")), "d")
		wantKind(t, err, KindOutcomeUnknown)
		if reqs := sim.Requests(); len(reqs) != 1 {
			t.Errorf("okta saw %d requests, want 1: a write is never resent blindly", len(reqs))
		}
		// The agent is told to read back, and reading back finds the user.
		if _, err := c.Do(t.Context(), bind(t, "users.get", map[string]any{"userId": "cut.off@example.com"}), "d"); err != nil {
			t.Errorf("the write was applied, but reading it back: %v", err)
		}
	})
	t.Run("reset before Okta served it", func(t *testing.T) {
		c, sim := newSimClient(t)
		sim.InjectFault(oktasim.Fault{Method: "POST", Abort: true, Count: 1})
		_, err := c.Do(t.Context(), bind(t, "user_lifecycle.suspend", map[string]any{"userId": oktasim.SeedUserAlice}), "d")
		wantKind(t, err, KindOutcomeUnknown)
		if reqs := sim.Requests(); len(reqs) != 1 {
			t.Errorf("okta saw %d requests, want 1", len(reqs))
		}
	})
	t.Run("hijacked after the body was read", func(t *testing.T) {
		srv := &counting{h: func(n int64, w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}}
		c := newClient(t, srv.handle)
		_, err := c.Do(t.Context(), bind(t, "users.create", createParams("x@example.com")), "d")
		wantKind(t, err, KindOutcomeUnknown)
		if got := srv.n.Load(); got != 1 {
			t.Errorf("okta saw %d requests, want 1", got)
		}
	})
	t.Run("applied, answer too large to read", func(t *testing.T) {
		srv := &counting{h: func(n int64, w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"id":"00u1","profile":{"login":"a-long-enough-answer@example.com"}}`)
		}}
		c := newClient(t, srv.handle, WithMaxResponseBytes(16))
		_, err := c.Do(t.Context(), bind(t, "users.create", createParams("x@example.com")), "d")
		wantKind(t, err, KindOutcomeUnknown)
	})
	t.Run("the caller went away after it was sent", func(t *testing.T) {
		arrived := make(chan struct{})
		srv := &counting{h: func(n int64, w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			close(arrived)
			<-r.Context().Done()
		}}
		c := newClient(t, srv.handle)
		ctx, cancel := context.WithCancel(t.Context())
		go func() { <-arrived; cancel() }()
		_, err := c.Do(ctx, bind(t, "users.delete", map[string]any{"userId": "00u1"}), "d")
		// The record must not say "canceled" as if nothing had happened.
		wantKind(t, err, KindOutcomeUnknown)
	})
	t.Run("no answer in time", func(t *testing.T) {
		srv := &counting{h: func(n int64, w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}}
		c := newClient(t, srv.handle, WithTimeout(200*time.Millisecond))
		_, err := c.Do(t.Context(), bind(t, "users.delete", map[string]any{"userId": "00u1"}), "d")
		wantKind(t, err, KindOutcomeUnknown)
		if got := srv.n.Load(); got != 1 {
			t.Errorf("okta saw %d requests, want 1", got)
		}
	})
}

// TestWriteThatNeverLeftKeepsItsKind: a failure before anything was sent
// says what it is; the outcome is known (nothing happened at Okta).
func TestWriteThatNeverLeftKeepsItsKind(t *testing.T) {
	refused := &http.Client{Transport: &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("connection refused")
		},
	}}
	c, err := New("http://127.0.0.1:1", WithAPIToken(token), WithHTTPClient(refused))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(t.Context(), bind(t, "users.create", createParams("x@example.com")), "d")
	wantKind(t, err, KindUnavailable)

	noToken := WithCredential(credentialFunc(func(context.Context, *http.Request, string) error {
		return errors.New("token endpoint unreachable")
	}))
	c, sim := newSimClient(t, noToken)
	_, err = c.Do(t.Context(), bind(t, "users.create", createParams("x@example.com")), "d")
	wantKind(t, err, KindCredentialUnavailable)
	if reqs := sim.Requests(); len(reqs) != 0 {
		t.Errorf("okta saw %d requests, want none", len(reqs))
	}
}

// TestReadResetIsStillRetried: a read is safe to send again, so a reset is
// retried, not reported.
func TestReadResetIsStillRetried(t *testing.T) {
	c, sim := newSimClient(t, WithRetries(3, time.Millisecond, time.Second))
	sim.InjectFault(oktasim.Fault{Method: "GET", Abort: true, Count: 1})
	if _, err := c.Do(t.Context(), bind(t, "users.get", map[string]any{"userId": oktasim.SeedUserAlice}), "d"); err != nil {
		t.Fatal(err)
	}
	if reqs := sim.Requests(); len(reqs) != 2 {
		t.Errorf("okta saw %d requests, want 2", len(reqs))
	}
}

type credentialFunc func(ctx context.Context, req *http.Request, scope string) error

func (f credentialFunc) Authorize(ctx context.Context, req *http.Request, scope string) error {
	return f(ctx, req, scope)
}

func wantKind(t *testing.T, err error, kind Kind) *Error {
	t.Helper()
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != kind {
		t.Fatalf("err = %v, want kind %s", err, kind)
	}
	return fe
}
