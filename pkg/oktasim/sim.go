package oktasim

import (
	"crypto/rand"
	"fmt"
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
	concurrency  int    // requests in flight at once; 0 is unlimited
	resNonce     bool   // resource calls demand a DPoP nonce
	marker       string // WithSecretMarker: prefix of every invented secret

	// secret keys the HMACs of pagination cursors and DPoP nonces. It is
	// random per Sim, so neither can be forged or carried to another org.
	secret []byte

	clients map[string]*serviceApp // OAuth service apps by client id; fixed after New
	people  *peopleAS              // the people's authorization server (idp.go); nil unless configured

	// mu guards everything below. Handlers run and encode their response
	// with it held, so a response is a consistent snapshot and the encoder
	// never reads a map another request is changing.
	mu sync.Mutex

	objectIDs *idSource // ids of org objects: depend only on the order of creations
	requestID *idSource // X-Okta-Request-Id, errorId, event uuids

	users    map[string]*user
	userIDs  []string         // every key of users, sorted: the order lists page in
	logins   map[string]*user // by lower-cased login
	groups   map[string]*group
	apps     map[string]*app
	sessions map[string]*session
	policies map[string]*policy
	factors  map[string]*factor
	events   []*logEvent // in seq order
	eventSeq uint64

	// Admin role assignments by user id and by group id.
	userRoles  map[string][]*roleAssignment
	groupRoles map[string][]*roleAssignment

	tokens     map[string]*accessToken
	tokenSweep int          // sweep expired tokens once the store grows past this
	assertions *replayCache // used client assertion jtis
	proofs     *replayCache // used DPoP proof jtis

	buckets  map[string]*bucket
	inFlight int
	faults   []*faultState
	requests []Request

	// Event hooks (hooks.go, hookdelivery.go).
	hookCfg     hookConfig
	hooks       []*eventHook  // in creation order
	hookPending int           // deliveries queued or in flight
	hookIdle    chan struct{} // closed when hookPending falls to zero
	hooksClosed bool
	orgURL      string        // where Serve listens, for a hook's source
	hookStop    chan struct{} // closed by Close; not guarded, never reassigned
	hookWG      sync.WaitGroup
}

// New returns a simulated org, seeded with the sample data unless
// WithSeed(false) is given.
func New(opts ...Option) *Sim {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret) // never fails on the platforms Go supports
	s := &Sim{
		token:        cfg.token,
		clock:        cfg.clock,
		logger:       cfg.logger,
		rateLimit:    cfg.rateLimit,
		rateWindow:   cfg.rateWindow,
		bucketLimits: cfg.bucketLimits,
		concurrency:  cfg.concurrency,
		resNonce:     cfg.resNonce,
		marker:       cfg.marker,
		secret:       secret,
		clients:      map[string]*serviceApp{},
		objectIDs:    newIDSource(0x6f6b7461, 1),
		requestID:    newIDSource(0x6f6b7461, 2),
		users:        map[string]*user{},
		logins:       map[string]*user{},
		groups:       map[string]*group{},
		apps:         map[string]*app{},
		sessions:     map[string]*session{},
		policies:     map[string]*policy{},
		factors:      map[string]*factor{},
		userRoles:    map[string][]*roleAssignment{},
		groupRoles:   map[string][]*roleAssignment{},
		tokens:       map[string]*accessToken{},
		tokenSweep:   1024,
		assertions:   newReplayCache(),
		proofs:       newReplayCache(),
		buckets:      map[string]*bucket{},
		hookCfg:      cfg.hooks,
		hookStop:     make(chan struct{}),
	}
	for _, a := range cfg.apps {
		sa, err := newServiceApp(a)
		if err == nil && s.clients[a.ClientID] != nil {
			err = fmt.Errorf("client id %q registered twice", a.ClientID)
		}
		if err != nil {
			panic("oktasim: WithServiceApp: " + err.Error())
		}
		s.clients[a.ClientID] = sa
	}
	if cfg.people.on {
		as, err := newPeopleAS(cfg.people)
		if err != nil {
			panic("oktasim: WithPeopleAuthServer: " + err.Error())
		}
		s.people = as
	}
	if cfg.seed {
		s.seed()
	}
	s.addExtraUsers(cfg.extraUsers, s.now())
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
