package oktasim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// TestAbortAfterAppliesTheWrite: the connection drops after the user was
// created, so the client gets no answer though the change is made, and the
// request is recorded without a status.
func TestAbortAfterAppliesTheWrite(t *testing.T) {
	e := newEnv(t)
	e.sim.InjectFault(Fault{Method: "POST", PathPrefix: "/api/v1/users", AbortAfter: true, Count: 1})
	const login = "cut.off@example.com"
	raw, _ := json.Marshal(newUserBody(login))
	req, _ := http.NewRequestWithContext(t.Context(), "POST", e.srv.URL+"/api/v1/users?activate=false", bytes.NewReader(raw))
	req.Header.Set("Authorization", "SSWS "+e.sim.APIToken())
	req.Header.Set("Content-Type", "application/json")
	if resp, err := e.srv.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("cut-off request got %d", resp.StatusCode)
	}
	if reqs := e.sim.Requests(); len(reqs) != 1 || reqs[0].Status != 0 {
		t.Errorf("requests = %+v, want one without a status", reqs)
	}
	e.do("GET", "/api/v1/users/"+url.PathEscape(login), nil).want(t, 200)
}
