package loadgen_test

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/loadgen"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

const simToken = "00sim-loadgen-test-token"

// recorder counts the simulator's answers by status and keeps the header
// names and values of the last request.
type recorder struct {
	mu       sync.Mutex
	byStatus map[int]int
	header   http.Header
}

func (rec *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		rec.mu.Lock()
		defer rec.mu.Unlock()
		rec.byStatus[sw.status]++
		rec.header = r.Header.Clone()
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// simServer is the Okta simulator behind httptest, with a rate limit no
// test reaches.
func simServer(t *testing.T) (*httptest.Server, *recorder) {
	t.Helper()
	sim := oktasim.New(oktasim.WithAPIToken(simToken), oktasim.WithRateLimit(1<<30, time.Minute))
	rec := &recorder{byStatus: map[int]int{}}
	srv := httptest.NewServer(rec.wrap(sim.Handler()))
	t.Cleanup(srv.Close)
	return srv, rec
}

// TestOktaBaseline: the baseline's requests are ones the simulator answers
// 200 to, every one is counted, and they carry the credential and
// User-Agent in the shape Bollard's forwarder sends.
func TestOktaBaseline(t *testing.T) {
	srv, rec := simServer(t)
	res, err := loadgen.Run(t.Context(), loadgen.Options{
		RPC: loadgen.RPCOkta, OktaURL: srv.URL, OktaToken: simToken, Action: "users.get",
		Params: map[string]any{"userId": oktasim.SeedUserAlice}, Concurrency: 4, Conns: 1, Duration: time.Minute, MaxRequests: 100,
	})
	if err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	if res.Requests != 100 || len(res.Errors) != 0 || rec.byStatus[200] != 101 || len(rec.byStatus) != 1 {
		t.Errorf("requests %d, errors %v; the simulator answered %v, want 100 plus the first call, all 200", res.Requests, res.Errors, rec.byStatus)
	}
	baseline := rec.header
	rec.mu.Unlock()

	// The forwarder's request for the same call, at the same simulator.
	c, err := forward.New(srv.URL, forward.WithAPIToken(simToken), forward.WithUserAgent("bollard/1.2.3"))
	if err != nil {
		t.Fatal(err)
	}
	call, err := catalog.Bind("users.get", map[string]any{"userId": oktasim.SeedUserAlice})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(t.Context(), call, "0190a5e0-0000-7000-8000-000000000001"); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	bollard := rec.header
	rec.mu.Unlock()
	if got, want := slices.Sorted(maps.Keys(baseline)), slices.Sorted(maps.Keys(bollard)); !slices.Equal(got, want) {
		t.Errorf("baseline headers %v, forwarder's %v", got, want)
	}
	if baseline.Get("Authorization") != bollard.Get("Authorization") {
		t.Errorf("Authorization differs from the forwarder's")
	}
	ua := regexp.MustCompile(`^bollard/\S+ decision/[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	for who, h := range map[string]http.Header{"baseline": baseline, "forwarder": bollard} {
		if !ua.MatchString(h.Get("User-Agent")) {
			t.Errorf("%s User-Agent = %q, want bollard/VERSION decision/UUID", who, h.Get("User-Agent"))
		}
	}

	// A wrong token fails on the first call with Okta's status.
	_, err = loadgen.Run(t.Context(), loadgen.Options{RPC: loadgen.RPCOkta, OktaURL: srv.URL, OktaToken: "00wrong", Action: "users.get",
		Params: map[string]any{"userId": oktasim.SeedUserAlice}, Concurrency: 1, Conns: 1, Duration: time.Second, MaxRequests: 10})
	if err == nil || !strings.Contains(err.Error(), "first call: okta answered 401") {
		t.Errorf("wrong token: %v", err)
	}
}

// TestOktaBaselineOptions: the baseline needs a token and a valid loopback
// org URL (the token goes there) and parameters the catalog binds.
func TestOktaBaselineOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    loadgen.Options
		want []string
	}{
		{"no token, remote", loadgen.Options{OktaURL: "https://example.okta.com", Action: "users.get", Params: map[string]any{"userId": "00u1"}},
			[]string{"okta token is required", "not loopback"}},
		{"plain http to a name", loadgen.Options{OktaURL: "http://localhost:1234", OktaToken: "t", Action: "users.get", Params: map[string]any{"userId": "00u1"}},
			[]string{"okta org URL"}},
		{"bad params", loadgen.Options{OktaURL: "http://127.0.0.1:1", OktaToken: "t", Action: "users.get"},
			[]string{"params.userId"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.RPC, tc.o.Concurrency, tc.o.Conns, tc.o.Duration, tc.o.MaxRequests = loadgen.RPCOkta, 1, 1, time.Second, 1
			_, err := loadgen.Run(t.Context(), tc.o)
			for _, want := range tc.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v does not mention %q", err, want)
				}
			}
		})
	}
}
