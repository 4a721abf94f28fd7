package audit

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPairIntentsFindsLostOutcomes: across rotated files, an intent with
// its outcome is paired, an outcome whose intent was rotated away is not a
// problem, an old intent without an outcome is lost, and a recent one is a
// call in flight.
func TestPairIntentsFindsLostOutcomes(t *testing.T) {
	dir := t.TempDir()
	older, newer := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	write := func(path string, recs ...*Record) {
		t.Helper()
		l, err := New(WithHMACKey(testKey), WithFile(path, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if err := l.Write(t.Context(), r); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	at := func(min int, kind, id string) *Record {
		return &Record{Time: testTime.Add(time.Duration(min) * time.Minute), Kind: kind, DecisionID: id, Action: "users.create"}
	}
	write(older,
		at(0, KindOutcome, "rotated-away"),
		at(1, KindIntent, "paired"),
		at(2, KindIntent, "lost"),
		at(3, KindCall, "denied"),
	)
	write(newer,
		at(4, KindOutcome, "paired"),
		at(30, KindIntent, "in-flight"),
		at(31, KindCall, "newest"),
	)
	p, err := PairIntents([]string{older, newer}, DefaultInFlight)
	if err != nil {
		t.Fatal(err)
	}
	if p.Intents != 3 || p.Outcomes != 2 || len(p.Unpaired) != 2 {
		t.Fatalf("pairing = %+v", p)
	}
	lost := p.Lost()
	if len(lost) != 1 || lost[0].DecisionID != "lost" || lost[0].File != older || lost[0].Line != 3 {
		t.Errorf("lost = %+v", lost)
	}
	if u := p.Unpaired[1]; u.DecisionID != "in-flight" || !u.InFlight {
		t.Errorf("in flight = %+v", u)
	}
	// With no window, the recent one is lost too.
	if p, _ := PairIntents([]string{older, newer}, 0); len(p.Lost()) != 2 {
		t.Errorf("lost with no window = %+v", p.Lost())
	}
}

// TestVerifyFilesReportsUnpairedIntents: audit verify fails on a call whose
// outcome was lost, names it, and lets a call in flight pass; a
// confirmation record is neither an intent nor an outcome.
func TestVerifyFilesReportsUnpairedIntents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := New(WithHMACKey(testKey), WithFile(path, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*Record{
		{Time: testTime, Kind: KindIntent, DecisionID: "lost-1", Action: "users.create"},
		{Time: testTime.Add(time.Minute), Kind: KindIntent, DecisionID: "paired", Action: "users.get"},
		// A person's answer to the confirmation of another call is neither.
		{Time: testTime.Add(90 * time.Second), Kind: KindConfirmation, DecisionID: "confirmed", Action: "users.delete", Detail: map[string]any{"response": "accept"}},
		{Time: testTime.Add(2 * time.Minute), Kind: KindOutcome, DecisionID: "paired", Action: "users.get"},
		{Time: testTime.Add(20 * time.Minute), Kind: KindIntent, DecisionID: "running", Action: "users.list"},
	} {
		if err := l.Write(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err = VerifyFiles(t.Context(), []string{path}, VerifyOptions{InFlight: DefaultInFlight}, &out)
	if ce, ok := errors.AsType[*ChainError](err); !ok || ce.Problem != ProblemUnpaired || ce.Line != 1 || !strings.Contains(ce.Detail, "lost-1") {
		t.Fatalf("verify = %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "intents: 3, outcomes: 1, in flight: 1, unpaired: 1") {
		t.Errorf("output:\n%s", out.String())
	}
	out.Reset()
	if err := VerifyFiles(t.Context(), []string{path}, VerifyOptions{InFlight: time.Hour}, &out); err != nil {
		t.Errorf("with every intent in flight: %v\n%s", err, out.String())
	}
}
