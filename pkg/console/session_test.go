package console

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/approvers"
)

// Sessions are bounded: when full, the expired ones go, then the one
// nearest its end; none outlives maxSessionAge, nor its token.
func TestSessionsBounded(t *testing.T) {
	clk := &clock{t: time.Now()}
	s := newSessions(2, clk.now)
	who := func(sub string, ttl time.Duration) approvers.Approver {
		return approvers.Approver{Person: approval.Person{Subject: sub}, Expires: clk.now().Add(ttl)}
	}
	soon, _ := s.add(who("soon", time.Minute))
	late, _ := s.add(who("late", time.Hour))
	third, _ := s.add(who("third", 30*time.Minute))
	if s.get(soon) != nil || s.get(late) == nil || s.get(third) == nil || s.len() != 2 {
		t.Errorf("full: the session nearest its end was not the one dropped")
	}
	clk.advance(31 * time.Minute)
	fourth, _ := s.add(who("fourth", time.Hour))
	if s.get(third) != nil || s.get(late) == nil || s.get(fourth) == nil {
		t.Errorf("the expired session was not dropped first")
	}
	long, sess := s.add(who("long", 24*time.Hour))
	if want := clk.now().Add(maxSessionAge); !sess.expires.Equal(want) || s.get(long) == nil {
		t.Errorf("a day's token: session until %v, want %v", sess.expires, want)
	}
	if s.get("") != nil || s.get("unknown") != nil {
		t.Error("a session for no id")
	}
	for k := range s.byID {
		if k == sha256.Sum256([]byte(long)) {
			return // kept by hash, never by id
		}
	}
	t.Error("sessions are not keyed by the id's hash")
}

// Sign-ins under way are bounded too: the oldest goes first.
func TestLoginsBounded(t *testing.T) {
	clk := &clock{t: time.Now()}
	l := newLogins(2, clk.now)
	in := func(cookie string) *login {
		return &login{binding: sha256.Sum256([]byte(cookie)), expires: clk.now().Add(loginTTL)}
	}
	l.add("a", in("ca"))
	l.add("b", in("cb"))
	l.add("c", in("cc"))
	if l.take("a", "ca") != nil {
		t.Error("the oldest sign-in was kept past the bound")
	}
	if l.take("b", "cc") != nil || l.take("b", "cb") != nil {
		t.Error("a sign-in was taken with another's cookie, or twice")
	}
	if l.take("c", "cc") == nil {
		t.Error("a good sign-in was refused")
	}
	for i := range 20 { // states taken leave no trace
		st := string(rune('d' + i))
		l.add(st, in("x"))
		l.take(st, "x")
	}
	if len(l.m) != 0 || len(l.order) > 4*l.max+1 {
		t.Errorf("%d sign-ins, %d states remembered", len(l.m), len(l.order))
	}
}
