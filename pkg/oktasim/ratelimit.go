package oktasim

import (
	"net/http"
	"time"
)

// Rate-limit buckets. Okta meters endpoint families separately so that heavy
// use of one does not starve another; these follow Okta's published
// grouping closely enough for a client to see per-family headers.
const (
	BucketUsers       = "/api/v1/users"              // list and create users
	BucketUser        = "/api/v1/users/{id}"         // one user, its lifecycle, groups and roles
	BucketUserFactors = "/api/v1/users/{id}/factors" // a user's factors
	BucketGroups      = "/api/v1/groups"
	BucketApps        = "/api/v1/apps"
	BucketSessions    = "/api/v1/sessions"
	BucketPolicies    = "/api/v1/policies"
	BucketLogs        = "/api/v1/logs"
	BucketToken       = "/oauth2/v1/token"          // the org authorization server's token endpoint
	BucketAuthServer  = "/oauth2/{authServerId}/v1" // the people's authorization server (idp.go), every endpoint
	BucketOther       = "/api/v1"
)

type bucket struct {
	start time.Time // start of the current window
	used  int
}

// bucketFor maps a request path to its bucket.
func bucketFor(segs []string) string {
	if isTokenPath(segs) {
		return BucketToken
	}
	if isPeopleASPath(segs) {
		return BucketAuthServer
	}
	if len(segs) < 3 || segs[0] != "api" || segs[1] != "v1" {
		return BucketOther
	}
	switch segs[2] {
	case "users":
		switch {
		case len(segs) == 3:
			return BucketUsers
		case len(segs) >= 5 && segs[4] == "factors":
			return BucketUserFactors
		default:
			return BucketUser
		}
	case "groups":
		return BucketGroups
	case "apps":
		return BucketApps
	case "sessions":
		return BucketSessions
	case "policies":
		return BucketPolicies
	case "logs":
		return BucketLogs
	}
	return BucketOther
}

type rateState struct {
	allowed   bool
	limit     int
	remaining int
	reset     time.Time
}

// take spends one request from the bucket. Windows are fixed and aligned to
// the simulator's clock, so a test with a frozen clock sees a bucket stay
// exhausted until it moves the clock past X-Rate-Limit-Reset. Callers hold
// s.mu.
func (s *Sim) take(name string, now time.Time) rateState {
	limit := s.rateLimit
	if l, ok := s.bucketLimits[name]; ok {
		limit = l
	}
	b := s.buckets[name]
	start := now.Truncate(s.rateWindow)
	if b == nil || !b.start.Equal(start) {
		b = &bucket{start: start}
		s.buckets[name] = b
	}
	st := rateState{limit: limit, reset: start.Add(s.rateWindow)}
	if b.used >= limit {
		return st
	}
	b.used++
	st.allowed = true
	st.remaining = limit - b.used
	return st
}

// admit counts a request in flight unless the concurrency limit is reached.
// Callers hold s.mu, and call release once an admitted request is answered.
func (s *Sim) admit() bool {
	if s.concurrency > 0 && s.inFlight >= s.concurrency {
		return false
	}
	s.inFlight++
	return true
}

func (s *Sim) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight--
}

// concurrencyState is what the rate-limit headers report on a request over
// the concurrency limit. Okta's rate-limit guide: once the concurrent limit
// is exceeded the headers report that instead of the bucket, with
// X-Rate-Limit-Limit and X-Rate-Limit-Remaining both 0, and an
// X-Rate-Limit-Reset that is only a suggestion: nothing guarantees enough
// requests finish by then. One second is a fair guess for requests that take
// milliseconds.
func (s *Sim) concurrencyState(now time.Time) rateState {
	return rateState{limit: 0, remaining: 0, reset: now.Add(time.Second)}
}

func errRateLimited() *apiError {
	return newError(http.StatusTooManyRequests, CodeRateLimited, "API call exceeded rate limit due to too many requests.")
}
