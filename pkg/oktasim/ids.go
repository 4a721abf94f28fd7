package oktasim

import (
	"fmt"
	"math/rand/v2"
)

const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Okta ids are a three-character type prefix and 17 random characters. The
// prefixes below are Okta's own, so an id says what it names in logs and
// test failures just as it does against a real org.
const (
	prefixUser   = "00u"
	prefixGroup  = "00g"
	prefixApp    = "0oa"
	prefixPolicy = "00p"
	prefixError  = "oae"
)

// idSource draws ids from a fixed-seed generator: the same sequence of
// creations yields the same ids, so tests and golden files stay stable.
type idSource struct {
	rng *rand.Rand
}

func newIDSource(seed1, seed2 uint64) *idSource {
	return &idSource{rng: rand.New(rand.NewPCG(seed1, seed2))}
}

func (g *idSource) chars(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = idAlphabet[g.rng.IntN(len(idAlphabet))]
	}
	return string(b)
}

// objectID returns a 20-character Okta id with the given prefix.
func (g *idSource) objectID(prefix string) string {
	return prefix + g.chars(20-len(prefix))
}

// uuid returns a version-4-shaped UUID, as Okta uses for System Log events.
func (g *idSource) uuid() string {
	a, b := g.rng.Uint64(), g.rng.Uint64()
	b = b&^(0xf<<60) | 0x8<<60 // variant
	a = a&^(0xf<<12) | 0x4<<12 // version 4
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, (a>>16)&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

// newID returns an id for a new object, never one already in use.
func (s *Sim) newID(prefix string) string {
	for {
		id := s.objectIDs.objectID(prefix)
		if !s.idTaken(id) {
			return id
		}
	}
}

func (s *Sim) idTaken(id string) bool {
	if _, ok := s.users[id]; ok {
		return true
	}
	if _, ok := s.groups[id]; ok {
		return true
	}
	if _, ok := s.apps[id]; ok {
		return true
	}
	if _, ok := s.policies[id]; ok {
		return true
	}
	if _, ok := s.factors[id]; ok {
		return true
	}
	for _, p := range s.policies {
		for _, r := range p.rules {
			if r.id == id {
				return true
			}
		}
	}
	return false
}

// nextRequestID returns a fresh X-Okta-Request-Id (27 characters, like
// Okta's). Callers hold s.mu.
func (s *Sim) nextRequestID() string { return s.requestID.chars(27) }

// nextErrorID returns a fresh errorId. Callers hold s.mu.
func (s *Sim) nextErrorID() string { return prefixError + s.requestID.chars(22) }
