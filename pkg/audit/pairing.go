package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"
)

// ProblemUnpaired: an intent has no outcome. The call was sent to Okta (or
// was about to be) and what Okta did was never recorded: the process died
// mid-call, or the outcome was lost with its spool.
const ProblemUnpaired = "unpaired"

// DefaultInFlight is how recent an unpaired intent may be, against the
// newest record, and still count as a call in flight rather than a lost
// outcome: longer than any Okta call, an ExecuteAll's pages included.
const DefaultInFlight = 10 * time.Minute

// Unpaired is an intent record with no outcome after it.
type Unpaired struct {
	File       string
	Line       int
	DecisionID string
	Action     string
	Time       time.Time
	// InFlight is true when the intent is within the in-flight window of
	// the newest record: its call may still be running.
	InFlight bool
}

// Pairing is what PairIntents found.
type Pairing struct {
	Intents, Outcomes int
	// Unpaired lists the intents without an outcome, oldest first.
	Unpaired []Unpaired
}

// Lost returns the unpaired intents that are not in flight.
func (p Pairing) Lost() []Unpaired {
	var out []Unpaired
	for _, u := range p.Unpaired {
		if !u.InFlight {
			out = append(out, u)
		}
	}
	return out
}

// pairFields are the members pairing reads of a record.
type pairFields struct {
	Kind       string `json:"kind"`
	DecisionID string `json:"decision_id"`
	Action     string `json:"action"`
	Timestamp  string `json:"timestamp"`
}

// PairIntents reads the files of one sink in order (oldest first) and pairs
// every intent with the outcome of the same decision. An outcome whose
// intent is not in the files (it was in a deleted backup) is not a problem;
// an intent without an outcome is, unless it is within inFlight of the
// newest record. The chain itself is Verify's job: run it first.
func PairIntents(files []string, inFlight time.Duration) (Pairing, error) {
	var (
		p      Pairing
		open   = map[string]Unpaired{}
		newest time.Time
	)
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return p, err
		}
		err = pairStream(f, name, &p, open, &newest)
		f.Close()
		if err != nil {
			return p, err
		}
	}
	for _, u := range open {
		u.InFlight = newest.Sub(u.Time) <= inFlight
		p.Unpaired = append(p.Unpaired, u)
	}
	sort.Slice(p.Unpaired, func(i, j int) bool {
		a, b := p.Unpaired[i], p.Unpaired[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		return a.DecisionID < b.DecisionID
	})
	return p, nil
}

func pairStream(r io.Reader, name string, p *Pairing, open map[string]Unpaired, newest *time.Time) error {
	rd := NewReader(r)
	for n := 1; ; n++ {
		line, err := rd.ReadLine()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s line %d: %w", name, n, err)
		}
		var f pairFields
		if err := json.Unmarshal(line, &f); err != nil {
			return &ChainError{File: name, Line: n, Problem: ProblemMalformed, Detail: err.Error()}
		}
		t, _ := time.Parse(time.RFC3339Nano, f.Timestamp)
		if t.After(*newest) {
			*newest = t
		}
		switch f.Kind {
		case KindIntent:
			p.Intents++
			open[f.DecisionID] = Unpaired{File: name, Line: n, DecisionID: f.DecisionID, Action: f.Action, Time: t}
		case KindOutcome:
			p.Outcomes++
			delete(open, f.DecisionID)
		}
	}
}
