package console

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/approvers"
)

// Sessions held in memory are bounded: when full, the expired ones go,
// then the one nearest its end; none outlives maxSessionAge, its token,
// nor its ID token.
func TestSessionsBounded(t *testing.T) {
	clk := &clock{t: time.Now()}
	s := newMemStore(2, maxLogins, clk.now)
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
		return err == nil && sess != nil
	}
	soon := add("soon", time.Minute)
	late := add("late", time.Hour)
	third := add("third", 30*time.Minute)
	if has(soon) || !has(late) || !has(third) || s.sessionCount() != 2 {
		t.Errorf("full: the session nearest its end was not the one dropped")
	}
	clk.advance(31 * time.Minute)
	fourth := add("fourth", time.Hour)
	if has(third) || !has(late) || !has(fourth) {
		t.Errorf("the expired session was not dropped first")
	}

	now := clk.now()
	who := approvers.Approver{Person: approval.Person{Subject: "long"}, Expires: now.Add(24 * time.Hour)}
	if _, sess := newSession(who, "", time.Time{}, now); !sess.expires.Equal(now.Add(maxSessionAge)) {
		t.Errorf("a day's token: session until %v, want %v", sess.expires, now.Add(maxSessionAge))
	}
	if _, sess := newSession(who, "id-token", now.Add(time.Hour), now); !sess.expires.Equal(now.Add(time.Hour)) || sess.idToken != "id-token" {
		t.Errorf("an ID token good for an hour: session until %v, want %v", sess.expires, now.Add(time.Hour))
	}
	id1, s1 := newSession(who, "", time.Time{}, now)
	id2, s2 := newSession(who, "", time.Time{}, now)
	if id1 == id2 || s1.csrf == s2.csrf || len(id1) < 26 || len(s1.csrf) < 26 || id1 == s1.csrf {
		t.Errorf("session ids and CSRF tokens are not fresh random values: %q %q %q %q", id1, id2, s1.csrf, s2.csrf)
	}
	if has("") || has("unknown") {
		t.Error("a session for no id")
	}
	for k := range s.sessions {
		if k == sha256.Sum256([]byte(late)) {
			return // kept by hash, never by id
		}
	}
	t.Error("sessions are not keyed by the id's hash")
}

// Sign-ins under way are bounded too: the oldest goes first. Each is
// taken once, by the browser that started it, before it expires.
func TestLoginsBounded(t *testing.T) {
	clk := &clock{t: time.Now()}
	c := &Console{cfg: Config{Now: clk.now}, store: newMemStore(DefaultMaxSessions, 2, clk.now)}
	s := c.store.(*memStore)
	add := func(state, cookie string) {
		if err := s.putLogin(t.Context(), storeKey(state), &login{binding: sha256.Sum256([]byte(cookie)), expires: clk.now().Add(loginTTL)}); err != nil {
			t.Fatal(err)
		}
	}
	take := func(state, cookie string) bool {
		in, err := c.takeLogin(t.Context(), state, cookie)
		return err == nil && in != nil
	}
	add("a", "ca")
	add("b", "cb")
	add("c", "cc")
	if take("a", "ca") {
		t.Error("the oldest sign-in was kept past the bound")
	}
	if take("b", "cc") || take("b", "cb") {
		t.Error("a sign-in was taken with another's cookie, or twice")
	}
	if !take("c", "cc") {
		t.Error("a good sign-in was refused")
	}
	add("d", "cd")
	clk.advance(loginTTL)
	if take("d", "cd") {
		t.Error("an expired sign-in was taken")
	}
	for i := range 20 { // states taken leave no trace
		st := string(rune('e' + i))
		add(st, "x")
		take(st, "x")
	}
	if len(s.logins) != 0 || len(s.order) > 4*s.maxLogins+1 {
		t.Errorf("%d sign-ins, %d states remembered", len(s.logins), len(s.order))
	}
	if take("", "") {
		t.Error("a sign-in for no state")
	}
}
