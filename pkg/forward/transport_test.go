package forward

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// TestConnectionsAreReusedUnderConcurrency: 20 callers make 400 calls with
// up to 10 in flight. The client keeps a connection per call in flight, so
// the simulator sees about as many connections as the cap, not one per
// call (Go's default pool keeps two idle connections, and a burst through
// it opened thousands).
func TestConnectionsAreReusedUnderConcurrency(t *testing.T) {
	sim := oktasim.New(oktasim.WithAPIToken(token), oktasim.WithRateLimit(1_000_000, time.Minute))
	srv := httptest.NewUnstartedServer(sim.Handler())
	var opened atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	const cap = 10
	c, err := New(srv.URL, WithAPIToken(token), WithConcurrency(cap, 1000))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for range 20 {
				if _, err := c.Do(t.Context(), bind(t, "users.get", map[string]any{"userId": oktasim.SeedUserAlice}), "d"); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	// A connection can be dialled while another is on its way back to the
	// pool: allow for that, and nothing near one per call.
	if n := opened.Load(); n > 2*cap {
		t.Errorf("%d connections opened for 400 calls with %d in flight: they are not reused", n, cap)
	}
}

// TestTransportSpeaksHTTP2AndResumesTLS: to a server that offers HTTP/2
// (as Okta does), the transport uses it; a new connection resumes the TLS
// session instead of a full handshake.
func TestTransportSpeaksHTTP2AndResumesTLS(t *testing.T) {
	var resumed []bool
	var mu sync.Mutex
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		resumed = append(resumed, r.TLS.DidResume)
		mu.Unlock()
		w.Header().Set("X-Proto", r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)

	tr := newTransport(10)
	tr.TLSClientConfig.RootCAs = srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	hc := &http.Client{Transport: tr}
	for i := range 2 {
		resp, err := hc.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Errorf("request %d went over %s, want HTTP/2", i, resp.Proto)
		}
		tr.CloseIdleConnections() // the second request needs a new connection
	}
	if len(resumed) != 2 || resumed[0] || !resumed[1] {
		t.Errorf("resumed = %v, want a full handshake then a resumed one", resumed)
	}
	if tr.TLSClientConfig.MinVersion < tls.VersionTLS12 {
		t.Errorf("TLS minimum %x", tr.TLSClientConfig.MinVersion)
	}
}
