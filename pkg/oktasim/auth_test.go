package oktasim

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestScopeEnforcement(t *testing.T) {
	o := newOAuthEnv(t)
	read := o.bearer(t, o.rsa, rsaClient, "okta.users.read")
	manage := o.bearer(t, o.rsa, rsaClient, "okta.users.manage")
	both := o.bearer(t, o.rsa, rsaClient, "okta.users.read okta.users.manage okta.logs.read")
	suspend := "/api/v1/users/" + SeedUserAlice + "/lifecycle/suspend"

	tests := []struct {
		name, token, method, path string
		status                    int
		scope                     string // the scope the refusal names
	}{
		{"read token reads", read, "GET", "/api/v1/users/" + SeedUserAlice, 200, ""},
		{"read token reads factors", read, "GET", "/api/v1/users/" + SeedUserAlice + "/factors", 200, ""},
		{"read token writes", read, "POST", suspend, 403, "okta.users.manage"},
		{"read token enrolls a factor", read, "POST", "/api/v1/users/" + SeedUserCarol + "/factors", 403, "okta.users.manage"},
		{"manage does not imply read", manage, "GET", "/api/v1/users", 403, "okta.users.read"},
		{"users scope on groups", both, "GET", "/api/v1/groups", 403, "okta.groups.read"},
		{"users scope on apps", both, "GET", "/api/v1/apps/" + SeedAppGitHub + "/users", 403, "okta.apps.read"},
		{"users scope on sessions", both, "DELETE", "/api/v1/sessions/" + SeedSessionAlice, 403, "okta.sessions.manage"},
		{"users scope on policies", both, "GET", "/api/v1/policies?type=PASSWORD", 403, "okta.policies.read"},
		{"logs", both, "GET", "/api/v1/logs?limit=1", 200, ""},
		{"scope is checked before the object", read, "DELETE", "/api/v1/users/00uNOBODY", 403, "okta.users.manage"},
		{"unknown path is still 404", read, "GET", "/api/v1/widgets", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := o.doToken(tt.method, tt.path, nil, "Bearer "+tt.token)
			if tt.status != 403 {
				resp.want(t, tt.status)
				return
			}
			got := resp.wantError(t, 403, CodeForbidden)
			if got.ErrorSummary != "You do not have permission to perform the requested action" {
				t.Errorf("errorSummary = %q", got.ErrorSummary)
			}
			ch := resp.header.Get("WWW-Authenticate")
			path, _, _ := strings.Cut(tt.path, "?")
			for _, want := range []string{"Bearer ", `error="insufficient_scope"`, `scope="` + tt.scope + `"`,
				`realm="` + o.srv.URL + `"`, `resource="` + path + `"`} {
				if !strings.Contains(ch, want) {
					t.Errorf("WWW-Authenticate %q lacks %s", ch, want)
				}
			}
		})
	}
	if st := o.userStatus(SeedUserAlice); st != StatusActive {
		t.Errorf("a refused write changed the org: %s", st)
	}
	t.Run("SSWS ignores scopes", func(t *testing.T) {
		o.do("POST", suspend, nil).want(t, 200)
		reqs := o.sim.Requests()
		if last := reqs[len(reqs)-1]; last.AuthScheme != AuthSSWS || last.Scopes != nil || last.ClientID != "" {
			t.Errorf("SSWS request recorded as %+v", last)
		}
	})
}

func TestBearerTokenValidity(t *testing.T) {
	o := newOAuthEnv(t)
	short := o.bearer(t, o.ec, ecClient, "okta.users.read") // the EC app's tokens last 10 minutes
	long := o.bearer(t, o.rsa, rsaClient, "okta.users.read")
	o.doToken("GET", "/api/v1/users", nil, "Bearer "+short).want(t, 200)

	o.clock.Advance(10*time.Minute - time.Millisecond)
	o.doToken("GET", "/api/v1/users", nil, "bearer "+short).want(t, 200) // the scheme is case-insensitive
	o.clock.Advance(time.Millisecond)
	tests := []struct{ name, auth, desc string }{
		{"expired", "Bearer " + short, "expired"},
		{"unknown", "Bearer " + strings.Repeat("x", 43), "invalid"},
		{"empty", "Bearer ", "invalid"},
		{"SSWS as Bearer", "Bearer " + o.sim.APIToken(), "invalid"},
		{"access token as SSWS", "SSWS " + long, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := o.doToken("GET", "/api/v1/users", nil, tt.auth)
			if got := resp.wantError(t, 401, CodeInvalidToken); got.ErrorSummary != "Invalid token provided" {
				t.Errorf("errorSummary = %q", got.ErrorSummary)
			}
			// The scheme presented is recorded; scopes only of a valid token.
			reqs := o.sim.Requests()
			if last := reqs[len(reqs)-1]; last.AuthScheme != strings.Fields(tt.auth)[0] || last.Scopes != nil {
				t.Errorf("refused request recorded as %+v", last)
			}
			ch := resp.header.Get("WWW-Authenticate")
			if tt.desc == "" {
				if ch != "" {
					t.Errorf("SSWS refusal with a challenge: %q", ch)
				}
				return
			}
			if !strings.HasPrefix(ch, "Bearer ") || !strings.Contains(ch, `error="invalid_token"`) || !strings.Contains(ch, tt.desc) {
				t.Errorf("WWW-Authenticate = %q", ch)
			}
		})
	}
	o.doToken("GET", "/api/v1/users", nil, "Bearer "+long).want(t, 200)
}

func TestOAuthActorAndUserAgent(t *testing.T) {
	o := newOAuthEnv(t)
	manage := o.bearer(t, o.rsa, rsaClient, "okta.users.manage")
	send := func(auth, agent, path string) {
		t.Helper()
		o.send("POST", path, "", http.Header{"Authorization": {auth}, "User-Agent": {agent}}).want(t, 200)
	}
	send("Bearer "+manage, "bollard/1.2 (agent=reader-bot)", "/api/v1/users/"+SeedUserCarol+"/lifecycle/suspend")
	send("SSWS "+o.sim.APIToken(), "okta-sdk-golang/5.0.6", "/api/v1/users/"+SeedUserCarol+"/lifecycle/unsuspend")

	events := o.sim.Events()
	byApp, byAdmin := events[len(events)-2], events[len(events)-1]
	if byApp.ActorID != rsaClient || byApp.ActorType != "PublicClientApp" || byApp.UserAgent != "bollard/1.2 (agent=reader-bot)" {
		t.Errorf("event by the app = %+v", byApp)
	}
	if byAdmin.ActorID != SeedUserAdmin || byAdmin.ActorType != "User" || byAdmin.UserAgent != "okta-sdk-golang/5.0.6" {
		t.Errorf("event by the admin = %+v", byAdmin)
	}
	// The System Log API shows both, as Okta's LogEvent does.
	logs := o.do("GET", "/api/v1/logs?sortOrder=DESCENDING&limit=2", nil).want(t, 200).array(t)
	if str(logs[0], "client", "userAgent", "rawUserAgent") != "okta-sdk-golang/5.0.6" ||
		str(logs[1], "client", "userAgent", "rawUserAgent") != "bollard/1.2 (agent=reader-bot)" ||
		str(logs[1], "actor", "type") != "PublicClientApp" || str(logs[1], "actor", "displayName") != "Bollard RSA" {
		t.Errorf("log events = %v", logs)
	}
	reqs := o.sim.Requests()
	if reqs[len(reqs)-2].UserAgent != "okta-sdk-golang/5.0.6" {
		t.Errorf("request user agent = %q", reqs[len(reqs)-2].UserAgent)
	}
}

func TestDateHeader(t *testing.T) {
	o := newOAuthEnv(t, WithBucketLimit(BucketApps, 1))
	want := testNow.Format(http.TimeFormat)
	for _, r := range []*response{
		o.do("GET", "/api/v1/users", nil),
		o.do("DELETE", "/api/v1/sessions/"+SeedSessionBob, nil),
		o.doToken("GET", "/api/v1/users", nil, ""),
		o.do("GET", "/api/v1/nothing", nil),
		o.do("GET", "/api/v1/apps", nil),
		o.do("GET", "/api/v1/apps", nil), // 429
		o.postToken(tokenForm("x", "okta.users.read"), ""),
	} {
		if got := r.header.Get("Date"); got != want {
			t.Errorf("%d response: Date = %q, want %q", r.status, got, want)
		}
	}
	o.clock.Advance(90 * time.Second)
	if got := o.do("GET", "/api/v1/users", nil).header.Get("Date"); got != testNow.Add(90*time.Second).Format(http.TimeFormat) {
		t.Errorf("Date does not follow the sim clock: %q", got)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	e := newEnv(t, WithConcurrencyLimit(2))
	// Two slow requests hold both places.
	e.sim.InjectFault(Fault{PathPrefix: "/api/v1/groups", Delay: 2 * time.Second, Count: 2})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if r := e.do("GET", "/api/v1/groups", nil); r.status != 200 {
				t.Errorf("slow request: %d", r.status)
			}
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.sim.inFlightNow() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("slow requests never got in flight")
		}
		time.Sleep(5 * time.Millisecond)
	}
	resp := e.do("GET", "/api/v1/users/"+SeedUserAlice, nil)
	got := resp.wantError(t, 429, CodeRateLimited)
	if got.ErrorSummary != "API call exceeded rate limit due to too many requests." {
		t.Errorf("errorSummary = %q", got.ErrorSummary)
	}
	if resp.header.Get("X-Rate-Limit-Limit") != "0" || resp.header.Get("X-Rate-Limit-Remaining") != "0" ||
		resp.header.Get("X-Rate-Limit-Reset") != strconv.FormatInt(testNow.Add(time.Second).Unix(), 10) {
		t.Errorf("concurrency 429 headers: %v", resp.header)
	}
	wg.Wait()
	// Places are free again, and the refused request spent nothing from
	// its bucket.
	ok := e.do("GET", "/api/v1/users/"+SeedUserAlice, nil).want(t, 200)
	if ok.header.Get("X-Rate-Limit-Remaining") != strconv.Itoa(DefaultRateLimit-1) {
		t.Errorf("remaining = %s", ok.header.Get("X-Rate-Limit-Remaining"))
	}
}

// inFlightNow is for tests that wait for requests to be in flight.
func (s *Sim) inFlightNow() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inFlight
}
