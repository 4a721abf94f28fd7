package oktasim

import (
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Sim is one simulated Okta org. It is safe for concurrent use.
type Sim struct {
	token        string
	clock        func() time.Time
	logger       *slog.Logger
	rateLimit    int
	rateWindow   time.Duration
	bucketLimits map[string]int

	// mu guards everything below. Handlers run and encode their response
	// with it held, so a response is a consistent snapshot and the encoder
	// never reads a map another request is changing.
	mu sync.Mutex

	objectIDs *idSource // ids of org objects: depend only on the order of creations
	requestID *idSource // X-Okta-Request-Id, errorId, event uuids

	users    map[string]*user
	groups   map[string]*group
	apps     map[string]*app
	sessions map[string]*session
	policies map[string]*policy
	factors  map[string]*factor
	events   []*logEvent

	buckets  map[string]*bucket
	faults   []*faultState
	requests []Request
}

// New returns a simulated org, seeded with the sample data unless
// WithSeed(false) is given.
func New(opts ...Option) *Sim {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	s := &Sim{
		token:        cfg.token,
		clock:        cfg.clock,
		logger:       cfg.logger,
		rateLimit:    cfg.rateLimit,
		rateWindow:   cfg.rateWindow,
		bucketLimits: cfg.bucketLimits,
		objectIDs:    newIDSource(0x6f6b7461, 1),
		requestID:    newIDSource(0x6f6b7461, 2),
		users:        map[string]*user{},
		groups:       map[string]*group{},
		apps:         map[string]*app{},
		sessions:     map[string]*session{},
		policies:     map[string]*policy{},
		factors:      map[string]*factor{},
		buckets:      map[string]*bucket{},
	}
	if cfg.seed {
		s.seed()
	}
	return s
}

// APIToken returns the SSWS token the simulator accepts.
func (s *Sim) APIToken() string { return s.token }

// Handler returns the HTTP handler that serves the Okta API.
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// now reads the configured clock at millisecond precision, the precision of
// Okta's timestamps, so that a value survives a JSON round trip unchanged.
func (s *Sim) now() time.Time {
	return s.clock().UTC().Truncate(time.Millisecond)
}
