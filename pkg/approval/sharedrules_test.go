package approval

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// Pools of the names the rules compare: exact matches, matches by
// EqualFold only (case, the Kelvin sign), invalid bytes and U+FFFD (equal
// to EqualFold, not to ==), empty strings, and an agent's id.
var (
	rulesSubjects = []string{"00uANN", "00uann", "ann@example.com", "bot", "", "\xff", "\ufffd", "kate@x", "00uDAVE"}
	rulesEmails   = []string{"", "ann@example.com", "ANN@Example.com", "bob@example.com", "\u212aate@x", "kate@x", "\xfe", "\ufffd", "bot"}
	rulesGroups   = []string{"sec", "SEC", "oncall", "\xff", "\ufffd"}
	rulesNames    = append(append([]string{}, rulesSubjects[:4]...), rulesEmails[1:]...)
)

func pick[T any](r *rand.Rand, pool []T) T { return pool[r.IntN(len(pool))] }

func somePicks(r *rand.Rand, pool []string, most int) []string {
	var out []string
	for range r.IntN(most + 1) {
		out = append(out, pick(r, pool))
	}
	return out
}

func randomPerson(r *rand.Rand) Person {
	return Person{Subject: pick(r, rulesSubjects), Email: pick(r, rulesEmails), Groups: somePicks(r, rulesGroups, 3)}
}

func randomRequest(r *rand.Rand) Request {
	var sets []Set
	for range 1 + r.IntN(2) {
		s := Set{Groups: somePicks(r, rulesGroups, 2), Users: somePicks(r, rulesNames, 2)}
		if len(s.Groups)+len(s.Users) == 0 {
			s.Groups = []string{pick(r, rulesGroups)}
		}
		sets = append(sets, s)
	}
	req := Request{Binding: binding(pick(r, []string{"bot", "helper"}), 1), OnBehalfOf: pick(r, append([]string{"", ""}, rulesNames...)),
		Concerns:    somePicks(r, rulesNames, 2),
		Requirement: Requirement{Approvers: sets, Approvals: 1 + r.IntN(2), Reason: "r"}}
	return req
}

// The shared store's script refuses a vote for exactly the reasons, and in
// the order, that the memory store does, and leaves the same state: over
// random requests and people drawn from names that differ by case, by
// fold only, by invalid bytes, or not at all. The script compares what Go
// compares with == as hex and what Go compares with EqualFold by fold key,
// so any drift between the two is a difference here.
func TestSharedRulesAreTheMemoryRules(t *testing.T) {
	st := openShared(t, redistest.Start(t))
	isAgent := agents("bot", "helper")
	mem := New(WithAgents(isAgent), WithLimits(10_000, 10_000))
	shared := sharedStore(t, st, WithAgents(isAgent), WithLimits(10_000, 10_000))
	r := rand.New(rand.NewPCG(17, 1))
	outcomes := map[string]int{}
	for trial := range 600 {
		req := randomRequest(r)
		m, s := mustCreate(t, mem, req), mustCreate(t, shared, req)
		// Up to two votes before the one compared: some refused, some
		// recorded (already voted, no longer pending).
		var last Person
		for i := range r.IntN(3) + 1 {
			p, approve := randomPerson(r), r.IntN(4) != 0
			if i > 0 && r.IntN(2) == 0 {
				p = again(r, last)
			}
			last = p
			commit := r.IntN(3) != 0
			var (
				mv, sv     Approval
				mErr, sErr error
			)
			if commit {
				mv, mErr = mem.Vote(m.ID, p, approve, "because")
				sv, sErr = shared.Vote(s.ID, p, approve, "because")
			} else {
				mv, mErr = mem.Check(m.ID, p, approve, "because")
				sv, sErr = shared.Check(s.ID, p, approve, "because")
			}
			if !sameRefusal(mErr, sErr) || mv.State != sv.State || len(mv.Votes) != len(sv.Votes) {
				t.Fatalf("trial %d: %+v votes (commit %v, approve %v) on %+v:\nmemory %v %v %d votes\nshared %v %v %d votes",
					trial, p, commit, approve, req, mErr, mv.State, len(mv.Votes), sErr, sv.State, len(sv.Votes))
			}
			outcomes[refusalName(mErr)]++
		}
	}
	// The draw reaches every refusal, and acceptance.
	for _, want := range []string{"ok", "agent", "notapprover", "self", "notpending", "voted"} {
		if outcomes[want] == 0 {
			t.Errorf("no trial ended %s: %v", want, outcomes)
		}
	}
	t.Logf("outcomes %v", outcomes)
}

// again is p once more, as the same person or as one the rules may take
// for them: the same subject, or an email equal but for case.
func again(r *rand.Rand, p Person) Person {
	q := p
	switch r.IntN(3) {
	case 0:
		q.Email = pick(r, rulesEmails)
	case 1:
		q.Subject = pick(r, rulesSubjects[:4])
		q.Email = strings.ToUpper(p.Email)
	}
	return q
}

func sameRefusal(a, b error) bool {
	return refusalName(a) == refusalName(b) && refusalName(a) != "other"
}

func refusalName(err error) string {
	for name, e := range map[string]error{"agent": ErrAgentApprover, "notapprover": ErrNotApprover, "self": ErrSelfApproval,
		"notpending": ErrNotPending, "voted": ErrAlreadyVoted, "notfound": ErrNotFound} {
		if errors.Is(err, e) {
			return name
		}
	}
	if err == nil {
		return "ok"
	}
	return "other"
}
