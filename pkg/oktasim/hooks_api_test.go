package oktasim

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestRegisterEventHookVerification(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	echo := func(value string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"verification": "` + value + `"}`))
		}
	}
	tests := []struct {
		name     string
		verify   http.HandlerFunc
		url      string // instead of the receiver's
		types    []string
		verified bool   // the failure is the handshake's, not the arguments'
		want     string // in the error; "" for success
	}{
		{name: "echo", verified: true},
		{name: "wrong echo", verify: echo("not-the-challenge"), verified: true, want: "echoed a different challenge"},
		{name: "not 200", verify: func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"verification": "` + r.Header.Get(VerificationHeader) + `"}`))
		}, verified: true, want: "answered 500, want 200"},
		{name: "not JSON", verify: func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(r.Header.Get(VerificationHeader)))
		}, verified: true, want: "did not answer a JSON object"},
		{name: "too slow", verify: func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done() // no answer until the simulator gives up
		}, verified: true, want: "no answer"},
		{name: "unreachable", url: gone.URL, verified: true, want: "unreachable"},
		{name: "plain http to another host", url: "http://hooks.example.com/okta", want: "must use HTTPS"},
		{name: "plain http to a name", url: "http://localhost/okta", want: "must use HTTPS"},
		{name: "no event types", types: []string{}, want: "at least one event type"},
		{name: "bad event type", types: []string{"User Created"}, want: "not an event type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, func(rc *receiver) { rc.verify = tt.verify })
			e := newEnv(t, WithEventHookTimeout(100*time.Millisecond))
			t.Cleanup(func() { _ = e.sim.Close() })
			hook := EventHook{URL: rc.srv.URL + "/okta?token=hidden", EventTypes: []string{"user.session.start"},
				Headers: map[string]string{"Authorization": hookSecret, "X-Extra": "yes"}}
			if tt.url != "" {
				hook.URL = tt.url
			}
			if tt.types != nil {
				hook.EventTypes = tt.types
			}
			id, err := e.sim.RegisterEventHook(t.Context(), hook)
			listed := e.do("GET", "/api/v1/eventHooks", nil).want(t, 200).array(t)
			if tt.want == "" {
				if err != nil || id == "" || len(listed) != 1 || listed[0]["verificationStatus"] != "VERIFIED" {
					t.Fatalf("RegisterEventHook = %q, %v; listed %v", id, err, listed)
				}
				gets := rc.Gets()
				if len(gets) != 1 || gets[0].Get(VerificationHeader) == "" || gets[0].Get("Authorization") != hookSecret ||
					gets[0].Get("X-Extra") != "yes" {
					t.Errorf("verification requests %v", gets)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || errors.Is(err, ErrHookVerification) != tt.verified {
				t.Errorf("RegisterEventHook error = %v, want one saying %q (verification failure: %v)", err, tt.want, tt.verified)
			}
			if err != nil && strings.Contains(err.Error(), "hidden") {
				t.Errorf("the error shows the URL's query: %v", err)
			}
			if len(listed) != 0 {
				t.Errorf("a hook was registered: %v", listed)
			}
		})
	}
}

func hookBody(uri string) map[string]any {
	return map[string]any{
		"name":   "Bollard receiver",
		"events": map[string]any{"type": "EVENT_TYPE", "items": []any{"user.session.start", "group.user_membership.add"}},
		"channel": map[string]any{"type": "HTTP", "version": "1.0.0", "config": map[string]any{
			"uri":        uri,
			"headers":    []any{map[string]any{"key": "X-Extra", "value": "yes"}},
			"authScheme": map[string]any{"type": "HEADER", "key": "Authorization", "value": hookSecret},
		}},
	}
}

func TestEventHookManagementAPI(t *testing.T) {
	var refuse atomic.Bool
	rc := newReceiver(t, func(rc *receiver) {
		rc.verify = func(w http.ResponseWriter, r *http.Request) {
			if refuse.Load() || r.Header.Get("Authorization") != hookSecret {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			_, _ = w.Write([]byte(`{"verification":"` + r.Header.Get(VerificationHeader) + `"}`))
		}
	})
	e := newEnv(t)
	t.Cleanup(func() { _ = e.sim.Close() })
	signIn := func() {
		t.Helper()
		if _, err := e.sim.StartSession(SeedUserBob); err != nil {
			t.Fatal(err)
		}
		flush(t, e.sim)
	}

	h := e.do("POST", "/api/v1/eventHooks", hookBody(rc.srv.URL)).want(t, 200).object(t)
	id, _ := h["id"].(string)
	if !strings.HasPrefix(id, "who") || h["status"] != "ACTIVE" || h["verificationStatus"] != "UNVERIFIED" ||
		str(h, "createdBy") != SeedUserAdmin || str(h, "channel", "config", "uri") != rc.srv.URL ||
		str(h, "channel", "config", "authScheme", "key") != "Authorization" || str(h, "_links", "verify", "href") == "" {
		t.Fatalf("created hook = %v", h)
	}
	if strings.Contains(string(e.do("GET", "/api/v1/eventHooks/"+id, nil).want(t, 200).body), hookSecret) {
		t.Error("the authScheme secret is rendered")
	}
	signIn()
	if n := len(rc.Posts()); n != 0 {
		t.Fatalf("%d POSTs to an unverified hook", n)
	}

	refuse.Store(true)
	e.do("POST", "/api/v1/eventHooks/"+id+"/lifecycle/verify", nil).wantError(t, 400, CodeValidation)
	if got := e.do("GET", "/api/v1/eventHooks/"+id, nil).want(t, 200).object(t); got["verificationStatus"] != "UNVERIFIED" {
		t.Errorf("after a failed verification: %v", got["verificationStatus"])
	}
	refuse.Store(false)
	if got := e.do("POST", "/api/v1/eventHooks/"+id+"/lifecycle/verify", nil).want(t, 200).object(t); got["verificationStatus"] != "VERIFIED" {
		t.Fatalf("verify = %v", got)
	}
	signIn()
	posts := rc.Posts()
	if len(posts) != 1 || posts[0].eventType() != "user.session.start" || posts[0].header.Get("Authorization") != hookSecret ||
		posts[0].header.Get("X-Extra") != "yes" || !strings.HasPrefix(posts[0].env.Source, e.srv.URL+"/api/v1/eventHooks/") {
		t.Fatalf("after verification: %+v", posts)
	}

	e.do("DELETE", "/api/v1/eventHooks/"+id, nil).wantError(t, 400, CodeValidation)
	if got := e.do("POST", "/api/v1/eventHooks/"+id+"/lifecycle/deactivate", nil).want(t, 200).object(t); got["status"] != "INACTIVE" ||
		str(got, "_links", "activate", "href") == "" {
		t.Fatalf("deactivate = %v", got)
	}
	signIn()
	if n := len(rc.Posts()); n != 1 {
		t.Fatalf("%d POSTs; an inactive hook got events", n)
	}
	e.do("POST", "/api/v1/eventHooks/"+id+"/lifecycle/activate", nil).want(t, 200)
	signIn()
	if n := len(rc.Posts()); n != 2 {
		t.Fatalf("%d POSTs after reactivation, want 2", n)
	}

	e.do("POST", "/api/v1/eventHooks/"+id+"/lifecycle/deactivate", nil).want(t, 200)
	e.do("DELETE", "/api/v1/eventHooks/"+id, nil).want(t, 204)
	e.do("GET", "/api/v1/eventHooks/"+id, nil).wantError(t, 404, CodeNotFound)
	e.do("POST", "/api/v1/eventHooks/"+id+"/lifecycle/verify", nil).wantError(t, 404, CodeNotFound)
	if got := e.do("GET", "/api/v1/eventHooks", nil).want(t, 200).array(t); len(got) != 0 {
		t.Errorf("listed after delete: %v", got)
	}
}

func TestCreateEventHookValidation(t *testing.T) {
	e := newEnv(t)
	tests := map[string]func(b map[string]any){
		"no name":        func(b map[string]any) { delete(b, "name") },
		"not EVENT_TYPE": func(b map[string]any) { b["events"].(map[string]any)["type"] = "FLOW_EVENT" },
		"no event types": func(b map[string]any) { b["events"].(map[string]any)["items"] = []any{} },
		"bad event type": func(b map[string]any) { b["events"].(map[string]any)["items"] = []any{42} },
		"not HTTP":       func(b map[string]any) { b["channel"].(map[string]any)["type"] = "SMTP" },
		"plain http":     func(b map[string]any) { channelConfig(b)["uri"] = "http://hooks.example.com/okta" },
		"relative uri":   func(b map[string]any) { channelConfig(b)["uri"] = "/okta" },
		"bad header": func(b map[string]any) {
			channelConfig(b)["headers"] = []any{map[string]any{"key": "Bad Key", "value": "x"}}
		},
		"headers not list": func(b map[string]any) { channelConfig(b)["headers"] = "X-Extra: yes" },
		"auth not HEADER":  func(b map[string]any) { channelConfig(b)["authScheme"].(map[string]any)["type"] = "BASIC" },
		"auth no value":    func(b map[string]any) { delete(channelConfig(b)["authScheme"].(map[string]any), "value") },
	}
	for name, spoil := range tests {
		t.Run(name, func(t *testing.T) {
			b := hookBody("https://hooks.example.com/okta")
			spoil(b)
			e.do("POST", "/api/v1/eventHooks", b).wantError(t, 400, CodeValidation)
		})
	}
	e.do("POST", "/api/v1/eventHooks", hookBody("https://hooks.example.com/okta")).want(t, 200)
}

func channelConfig(b map[string]any) map[string]any {
	return b["channel"].(map[string]any)["config"].(map[string]any)
}

// TestVerifyDoesNotStallTheAPI checks that the handshake, which waits on
// the receiver, is made without the simulator's lock: a read is answered
// while the receiver holds the handshake, which it lets go only after.
func TestVerifyDoesNotStallTheAPI(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	letGo := func() { once.Do(func() { close(release) }) }
	defer letGo() // before the receiver closes, which waits for the handshake
	rc := newReceiver(t, func(rc *receiver) {
		rc.verify = func(w http.ResponseWriter, r *http.Request) {
			<-release
			_, _ = w.Write([]byte(`{"verification":"` + r.Header.Get(VerificationHeader) + `"}`))
		}
	})
	e := newEnv(t)
	t.Cleanup(func() { _ = e.sim.Close() })
	id := str(e.do("POST", "/api/v1/eventHooks", hookBody(rc.srv.URL)).want(t, 200).object(t), "id")
	done := make(chan *response, 1)
	go func() { done <- e.do("POST", "/api/v1/eventHooks/"+id+"/lifecycle/verify", nil) }()
	for len(rc.Gets()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	read := make(chan *response, 1)
	go func() { read <- e.do("GET", "/api/v1/users/"+SeedUserAlice, nil) }()
	select {
	case r := <-read:
		r.want(t, 200)
	case <-time.After(10 * time.Second): // reached only when the read is stuck
		t.Error("a read waited for the verification in flight")
	}
	letGo()
	(<-done).want(t, 200)
}

func TestEventHookScopes(t *testing.T) {
	const hooksClient = "0oaHOOKSREADER0000g7"
	o := newOAuthEnv(t, WithServiceApp(ServiceApp{ClientID: hooksClient, Scopes: []string{scopeHooksRead},
		PublicKeys: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{rsaSigner().public()}}}))
	read := o.bearer(t, o.rsa, hooksClient, scopeHooksRead)
	o.doToken("GET", "/api/v1/eventHooks", nil, "Bearer "+read).want(t, 200)
	resp := o.doToken("POST", "/api/v1/eventHooks", hookBody("https://hooks.example.com/okta"), "Bearer "+read)
	resp.wantError(t, 403, CodeForbidden)
	if ch := resp.header.Get("WWW-Authenticate"); !strings.Contains(ch, `scope="okta.eventHooks.manage"`) {
		t.Errorf("WWW-Authenticate = %q", ch)
	}
}

// rsaSigner is the RSA test key under the kid newOAuthEnv gives it.
func rsaSigner() signer { return signer{jose.RS256, rsaTestKey(), "rsa-1"} }
