package oktasim

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// Fault makes matching requests misbehave, so tests can see how a client
// copes with Okta failing: 5xx, 429, a token Okta suddenly rejects, a slow
// answer, or a dropped connection (before or after the request is served).
type Fault struct {
	// Method matches the HTTP method; empty matches any.
	Method string
	// PathPrefix matches the start of the URL path ("/api/v1/users"); empty
	// matches any.
	PathPrefix string
	// Status is the HTTP status to answer with. Zero answers normally after
	// Delay, which is how a slow but successful Okta is simulated.
	Status int
	// ErrorCode and ErrorSummary fill the Okta error body; when empty, Okta's
	// usual code and text for Status are used (E0000047 for 429, ...).
	ErrorCode    string
	ErrorSummary string
	// Delay holds the response back. It ends early if the client goes away,
	// so a client timeout does not leave the handler running.
	Delay time.Duration
	// Abort closes the connection without any response, before the request
	// is served: nothing changes.
	Abort bool
	// AbortAfter serves the request as usual (a write is applied and logged)
	// and then closes the connection instead of answering, as when a
	// connection resets after Okta processed the call. The client sees the
	// same failure as with Abort, though the change is made: only reading
	// the object back tells the two apart. Status must be zero.
	AbortAfter bool
	// Count is how many requests the fault applies to; zero or less means
	// every matching request until ClearFaults.
	Count int
}

type faultState struct {
	Fault
	left int // requests left; unlimited when Count <= 0
}

// InjectFault adds a fault. Faults are checked in the order they were added;
// the first that matches applies.
func (s *Sim) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultState{Fault: f, left: f.Count})
}

// ClearFaults removes every fault.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault returns the fault that applies to r, spending one of its uses.
// Callers hold s.mu.
func (s *Sim) takeFault(r *http.Request) (Fault, bool) {
	for i, f := range s.faults {
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if !strings.HasPrefix(r.URL.Path, f.PathPrefix) {
			continue
		}
		if f.Count > 0 {
			f.left--
			if f.left <= 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return f.Fault, true
	}
	return Fault{}, false
}

// wait sleeps for d or until ctx ends, reporting whether the full delay
// elapsed.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (f Fault) apiError() *apiError {
	code, summary := defaultCode(f.Status)
	if f.ErrorCode != "" {
		code = f.ErrorCode
	}
	if f.ErrorSummary != "" {
		summary = f.ErrorSummary
	}
	return newError(f.Status, code, summary)
}
