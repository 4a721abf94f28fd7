package sidecar

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestPprofIsOptInAndLoopbackOnly: the profiles are off unless asked for,
// and then answer only a loopback peer, even on an admin listener that the
// kubelet reaches on the pod's IP.
func TestPprofIsOptInAndLoopbackOnly(t *testing.T) {
	metrics := http.NotFoundHandler()
	for _, c := range []struct {
		name   string
		on     bool
		remote string
		want   int
	}{
		{"off", false, "127.0.0.1:5000", http.StatusNotFound},
		{"on, loopback peer", true, "127.0.0.1:5000", http.StatusOK},
		{"on, IPv6 loopback peer", true, "[::1]:5000", http.StatusOK},
		{"on, peer on the pod network", true, "10.1.2.3:5000", http.StatusForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := adminHandler(nil, nil, nil, metrics, c.on, nil)
			for _, path := range []string{"/debug/pprof/", "/debug/pprof/goroutine?debug=1", "/debug/pprof/cmdline"} {
				req := httptest.NewRequest("GET", path, nil)
				req.RemoteAddr = c.remote
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != c.want {
					t.Errorf("GET %s from %s = %d, want %d", path, c.remote, rec.Code, c.want)
				}
			}
		})
	}
}
