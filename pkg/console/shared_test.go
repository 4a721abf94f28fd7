package console

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/approvers"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// sharedReplicas is two consoles behind one front, sharing a real
// redis-server (the test skips without one, unless BOLLARD_REQUIRE_TOOLS=1).
func sharedReplicas(t *testing.T) (*env, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	st, err := state.Open(t.Context(), srv.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newReplicas(t, st.Part(state.PartConsole), 2), srv
}

// storedKeys are the keys the console wrote, without the server's prefix.
func storedKeys(t *testing.T, srv *redistest.Server) []string {
	t.Helper()
	prefix := srv.Config().KeyPrefix
	keys, err := srv.Client().Keys(t.Context(), prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		keys[i] = strings.TrimPrefix(keys[i], prefix)
	}
	return keys
}

// A sign-in started on replica A ends on replica B; the session B opens is
// honoured on A; a session opened on A and signed out on B is over on A
// too, even for a copy of its cookie. Redis holds the SHA-256 of the
// session id and of the state, never the values.
func TestSharedSessionsAcrossReplicas(t *testing.T) {
	e, srv := sharedReplicas(t)
	a := e.pending("reason")
	c := e.client()

	e.on(0)
	authorize := e.startSignIn(c, "/approvals/"+a.ID)
	state := mustQuery(t, authorize).Get("state")
	callback := e.atProvider(c, authorize, oktasim.SeedLoginSam)
	e.on(1)
	cont := c.do("GET", callback, nil).want(t, http.StatusOK)
	if !strings.Contains(cont.body, `url=/approvals/`+a.ID) {
		t.Fatalf("the callback on B does not go back to the approval:\n%s", cont.body)
	}
	id := c.cookies[SessionCookie+"/"].Value
	e.on(0)
	page := c.do("GET", e.srv.URL+"/approvals/"+a.ID, nil).want(t, http.StatusOK)
	if !strings.Contains(page.body, "sam.singh@example.com") {
		t.Fatalf("replica A does not honour B's session:\n%s", page.body)
	}
	// A vote on A with the CSRF token B's page would have carried.
	e.on(1)
	tok := csrf(t, c.do("GET", e.srv.URL+"/approvals/"+a.ID, nil).want(t, http.StatusOK).body)
	e.on(0)
	c.do("POST", e.srv.URL+"/approvals/"+a.ID+"/approve", url.Values{"csrf": {tok}, "comment": {"via A"}}).want(t, http.StatusSeeOther)
	if got, _ := e.store.Get(a.ID); got.State != approval.Approved {
		t.Fatalf("the vote on A: %+v", got)
	}

	keys := storedKeys(t, srv)
	idHash := sha256.Sum256([]byte(id))
	want := "{console}:s:" + hex.EncodeToString(idHash[:])
	found := false
	for _, k := range keys {
		if strings.Contains(k, id) || strings.Contains(k, state) {
			t.Errorf("a key holds the session id or the state: %s", k)
		}
		found = found || k == want
	}
	if !found {
		t.Errorf("no session under the id's SHA-256 %s; keys %q", want, keys)
	}
	raw, err := srv.Client().Get(t.Context(), srv.Config().KeyPrefix+want).Result()
	if err != nil || strings.Contains(raw, id) {
		t.Errorf("the session record (%v) holds the session id:\n%s", err, raw)
	}
	ttl, err := srv.Client().PTTL(t.Context(), srv.Config().KeyPrefix+want).Result()
	if err != nil || ttl > oktasim.PeopleTokenTTL || ttl < oktasim.PeopleTokenTTL-time.Minute {
		t.Errorf("the session's TTL is %v (%v), want its remaining life, about %v", ttl, err, oktasim.PeopleTokenTTL)
	}

	// Signed in on A, signed out on B: over on A.
	d := e.client()
	e.on(0)
	e.signIn(d, "/approvals/", oktasim.SeedLoginTess).want(t, http.StatusOK)
	tok = csrf(t, d.do("GET", e.srv.URL+"/approvals/", nil).want(t, http.StatusOK).body)
	kept := *d.cookies[SessionCookie+"/"]
	e.on(1)
	// Sign-out goes on to the provider; a copy of the cookie is kept, as
	// an attacker might.
	d.do("POST", e.srv.URL+"/approvals/logout", url.Values{"csrf": {tok}}).want(t, http.StatusSeeOther)
	d.cookies[SessionCookie+"/"] = &kept
	e.on(0)
	d.do("GET", e.srv.URL+"/approvals/", nil).want(t, http.StatusSeeOther)
	d.do("POST", e.srv.URL+"/approvals/logout", url.Values{"csrf": {tok}}).want(t, http.StatusForbidden)
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// A callback's state is taken once across the fleet: replayed on the
// other replica, with the browser's pre-login cookie, it is refused, and
// so is a state another browser started.
func TestSharedCallbackStateIsSingleUse(t *testing.T) {
	e, _ := sharedReplicas(t)
	c := e.client()
	e.on(0)
	authorize := e.startSignIn(c, "/approvals/")
	pre := *c.cookies[LoginCookie+CallbackPath]
	callback := e.atProvider(c, authorize, oktasim.SeedLoginSam)
	c.do("GET", callback, nil).want(t, http.StatusOK)

	replay := e.client()
	replay.cookies[LoginCookie+CallbackPath] = &pre
	e.on(1)
	r := replay.do("GET", callback, nil).want(t, http.StatusBadRequest)
	if !strings.Contains(r.body, "already used") || replay.cookies[SessionCookie+"/"] != nil {
		t.Fatalf("a replayed callback:\n%s", r.body)
	}

	// Started by one browser, called back in another: refused, and spent.
	started, other := e.client(), e.client()
	e.on(0)
	authorize = e.startSignIn(started, "/approvals/")
	callback = e.atProvider(started, authorize, oktasim.SeedLoginSam)
	e.on(1)
	other.do("GET", callback, nil).want(t, http.StatusBadRequest)
	started.do("GET", callback, nil).want(t, http.StatusBadRequest)
}

// A session ends at its token's exp on every replica, and its record goes
// with it; a sign-in left too long expires on every replica.
func TestSharedSessionExpires(t *testing.T) {
	e, srv := sharedReplicas(t)
	c := e.client()
	e.on(0)
	e.signIn(c, "/approvals/", oktasim.SeedLoginSam).want(t, http.StatusOK)
	e.clk.advance(oktasim.PeopleTokenTTL - time.Second)
	e.on(1)
	c.do("GET", e.srv.URL+"/approvals/", nil).want(t, http.StatusOK)
	e.clk.advance(time.Second)
	for i := range 2 {
		e.on(i)
		r := c.do("GET", e.srv.URL+"/approvals/", nil).want(t, http.StatusSeeOther)
		if !strings.HasPrefix(r.header.Get("Location"), "/approvals/login?") {
			t.Errorf("replica %d sends an expired session to %s", i, r.header.Get("Location"))
		}
	}
	for _, k := range storedKeys(t, srv) {
		if strings.HasPrefix(k, "{console}:s:") {
			t.Errorf("the expired session's record is still stored: %s", k)
		}
	}

	late := e.client() // c is still signed in at the provider
	e.on(0)
	authorize := e.startSignIn(late, "/approvals/")
	callback := e.atProvider(late, authorize, oktasim.SeedLoginSam)
	e.clk.advance(loginTTL)
	e.on(1)
	late.do("GET", callback, nil).want(t, http.StatusBadRequest)
}

// While the store cannot be reached, nothing is guessed: no session is
// honoured, no sign-in starts or ends, and a sign-out keeps the cookie so
// that it can be tried again; each says so on a page, not a panic. Once
// the store is back (empty), signing in works again.
func TestSharedStoreDownFailsClosed(t *testing.T) {
	e, srv := sharedReplicas(t)
	a := e.pending("reason")
	c := e.client()
	e.signIn(c, "/approvals/", oktasim.SeedLoginSam).want(t, http.StatusOK)
	tok := csrf(t, c.do("GET", e.srv.URL+"/approvals/", nil).want(t, http.StatusOK).body)
	fresh := e.client()
	authorize := e.startSignIn(fresh, "/approvals/")
	callback := e.atProvider(fresh, authorize, oktasim.SeedLoginSam)

	srv.Stop()
	for name, r := range map[string]*response{
		"a page":      c.do("GET", e.srv.URL+"/approvals/", nil),
		"an approval": c.do("GET", e.srv.URL+"/approvals/"+a.ID, nil),
		"a vote":      c.do("POST", e.srv.URL+"/approvals/"+a.ID+"/approve", url.Values{"csrf": {tok}}),
		"a sign-in":   e.client().do("GET", e.srv.URL+"/approvals/login", nil),
		"a callback":  fresh.do("GET", callback, nil),
		"a sign-out":  c.do("POST", e.srv.URL+"/approvals/logout", url.Values{"csrf": {tok}}),
	} {
		r.want(t, http.StatusServiceUnavailable)
		e.checkHeaders(t, r)
		if !strings.Contains(r.body, "cannot reach the store") {
			t.Errorf("%s while the store is down:\n%s", name, r.body)
		}
	}
	if c.cookies[SessionCookie+"/"] == nil {
		t.Error("a sign-out that could not end the session removed its cookie")
	}
	if fresh.cookies[SessionCookie+"/"] != nil {
		t.Error("a session was opened without the store")
	}
	if got, _ := e.store.Get(a.ID); len(got.Votes) != 0 {
		t.Fatalf("a vote without a session: %+v", got)
	}

	srv.Restart()
	c.do("GET", e.srv.URL+"/approvals/", nil).want(t, http.StatusSeeOther) // the session died with the store's data
	again := e.client()
	e.signIn(again, "/approvals/", oktasim.SeedLoginSam).want(t, http.StatusOK)
	again.do("GET", e.srv.URL+"/approvals/", nil).want(t, http.StatusOK)
}

// The shared store is bounded across the fleet as the memory store is in
// one process: when full, the expired sessions go, then the one nearest
// its end; the oldest sign-in goes first.
func TestSharedStoreBounded(t *testing.T) {
	srv := redistest.Start(t)
	st, err := state.Open(t.Context(), srv.Config(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := &clock{t: time.Now()}
	s := &sharedStore{st: st.Part(state.PartConsole), maxSessions: 2, maxLogins: 2, now: clk.now}
	ctx := t.Context()
	add := func(sub string, ttl time.Duration) string {
		id, sess := newSession(approvers.Approver{Person: approval.Person{Subject: sub}, Expires: clk.now().Add(ttl)}, "", time.Time{}, clk.now())
		if err := s.putSession(ctx, storeKey(id), sess); err != nil {
			t.Fatal(err)
		}
		return id
	}
	has := func(id string) bool {
		sess, err := s.getSession(ctx, storeKey(id))
		if err != nil {
			t.Fatal(err)
		}
		return sess != nil
	}
	soon := add("soon", time.Minute)
	late := add("late", time.Hour)
	third := add("third", 30*time.Minute)
	if has(soon) || !has(late) || !has(third) {
		t.Errorf("full: the session nearest its end was not the one dropped")
	}
	clk.advance(31 * time.Minute)
	fourth := add("fourth", time.Hour)
	if has(third) || !has(late) || !has(fourth) {
		t.Errorf("the expired session was not dropped first")
	}
	if n, _ := srv.Client().ZCard(ctx, st.Key("{console}", "s-index")).Result(); n != 2 {
		t.Errorf("%d sessions indexed, want 2", n)
	}

	for _, state := range []string{"a", "b", "c"} {
		if err := s.putLogin(ctx, storeKey(state), &login{expires: clk.now().Add(loginTTL)}); err != nil {
			t.Fatal(err)
		}
		clk.advance(time.Second)
	}
	for state, want := range map[string]bool{"a": false, "b": true, "c": true} {
		in, err := s.takeLogin(ctx, storeKey(state))
		if err != nil || (in != nil) != want {
			t.Errorf("sign-in %s: %v, %v; want kept %v", state, in, err, want)
		}
	}
	if n, _ := srv.Client().ZCard(ctx, st.Key("{console}", "l-index")).Result(); n != 0 {
		t.Errorf("%d sign-ins indexed after all were taken", n)
	}
}

// The console's commands run with no more rights than docs/scaling.md's
// ACL example gives the sidecar.
func TestSharedStoreUnderTheDocumentedACL(t *testing.T) {
	srv := redistest.Start(t)
	st, err := state.Open(t.Context(), srv.DocumentedACLConfig("../../docs/scaling.md"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := &clock{t: time.Now()}
	s := &sharedStore{st: st.Part(state.PartConsole), maxSessions: 2, maxLogins: 2, now: clk.now}
	ctx := t.Context()
	id, sess := newSession(approvers.Approver{Person: approval.Person{Subject: "sam"}, Expires: clk.now().Add(time.Hour)}, "", time.Time{}, clk.now())
	if err := s.putSession(ctx, storeKey(id), sess); err != nil {
		t.Fatal(err)
	}
	if got, err := s.getSession(ctx, storeKey(id)); err != nil || got == nil {
		t.Fatalf("get: %v, %v", got, err)
	}
	if err := s.deleteSession(ctx, storeKey(id)); err != nil {
		t.Fatal(err)
	}
	if err := s.putLogin(ctx, storeKey("st"), &login{expires: clk.now().Add(loginTTL)}); err != nil {
		t.Fatal(err)
	}
	if in, err := s.takeLogin(ctx, storeKey("st")); err != nil || in == nil {
		t.Fatalf("take: %v, %v", in, err)
	}
}

// Every field of the approvers.Approver a session is opened for comes
// back from the shared store as it went in, and so do the CSRF token, the
// ID token and the end: a field added to approvers.Approver or
// approval.Person fails this test until the record keeps it.
func TestSharedRecordKeepsEveryField(t *testing.T) {
	var who approvers.Approver
	fill(t, reflect.ValueOf(&who).Elem(), "who")
	sess := &session{who: who, csrf: "csrf-token", idToken: "id.token.sig", expires: time.Unix(1767225600, 0)}
	raw, err := encodeSession(sess)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeSession(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !got.who.Expires.Equal(who.Expires) || !got.expires.Equal(sess.expires) {
		t.Errorf("times: %v %v, want %v %v", got.who.Expires, got.expires, who.Expires, sess.expires)
	}
	got.who.Expires, got.expires = who.Expires, sess.expires
	if !reflect.DeepEqual(got, sess) {
		t.Errorf("after the store:\n%+v\nwant\n%+v", got, sess)
	}
	// Groups: none and empty both stay none.
	sess.who.Groups = nil
	raw, _ = encodeSession(sess)
	if got, _ := decodeSession(raw); got == nil || len(got.who.Groups) != 0 {
		t.Errorf("no groups: %+v", got)
	}
	for name, bad := range map[string]string{
		"another version": strings.Replace(string(raw), `"v":1`, `"v":2`, 1),
		"no subject":      strings.Replace(string(raw), `"sub":"who.Person.Subject"`, `"sub":""`, 1),
		"not JSON":        "{",
		"too large":       `{"v":1,"sub":"x","csrf":"y","exp":"2030-01-01T00:00:00Z","groups":["` + strings.Repeat("g", maxRecordBytes) + `"]}`,
	} {
		if got, err := decodeSession([]byte(bad)); err == nil {
			t.Errorf("%s: read as %+v", name, got)
		}
	}
}

// fill sets every field of v to a value of its own, by name.
func fill(t *testing.T, v reflect.Value, name string) {
	t.Helper()
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(1767229200, 0)))
			return
		}
		for i := range v.NumField() {
			fill(t, v.Field(i), name+"."+v.Type().Field(i).Name)
		}
	case reflect.String:
		v.SetString(name)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			t.Fatalf("%s: a %s, which this test does not fill: teach it, and the session record", name, v.Type())
		}
		v.Set(reflect.ValueOf([]string{name + "[0]", name + "[1]"}))
	default:
		t.Fatalf("%s: a %s, which this test does not fill: teach it, and the session record", name, v.Type())
	}
}
