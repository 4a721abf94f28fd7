package approval

import (
	"testing"

	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// BenchmarkSharedLifecycle is one approval's life in the shared store:
// Create, Check, Vote, Get, Redeem, each one round trip (docs/scaling.md,
// "Human approvals").
func BenchmarkSharedLifecycle(b *testing.B) {
	for _, step := range []string{"create", "check", "vote", "get", "redeem"} {
		b.Run(step, func(b *testing.B) {
			s := benchStore(b)
			ids := make([]string, b.N)
			prepare := func(i int) {
				a, err := s.Create(request("provisioner-bot", 1))
				if err != nil {
					b.Fatal(err)
				}
				ids[i] = a.ID
				if step == "redeem" {
					if _, err := s.Vote(a.ID, ann, true, ""); err != nil {
						b.Fatal(err)
					}
				}
			}
			if step != "create" {
				for i := range b.N {
					prepare(i)
				}
			}
			b.ResetTimer()
			for i := range b.N {
				var err error
				switch step {
				case "create":
					_, err = s.Create(request("provisioner-bot", 1))
				case "check":
					_, err = s.Check(ids[i], ann, true, "")
				case "vote":
					_, err = s.Vote(ids[i], ann, true, "")
				case "get":
					_, err = s.Get(ids[i])
				case "redeem":
					_, err = s.Redeem(ids[i], binding("provisioner-bot", 1))
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSharedList lists 100 approvals: two round trips.
func BenchmarkSharedList(b *testing.B) {
	s := benchStore(b)
	for range 100 {
		if _, err := s.Create(request("a", 1)); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		if l, err := s.List(); err != nil || len(l) != 100 {
			b.Fatal(len(l), err)
		}
	}
}

func benchStore(b *testing.B) *Store {
	st, err := state.Open(b.Context(), redistest.Start(b).Config(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	s := New(WithShared(st), WithLimits(1<<30, 1<<30))
	b.Cleanup(func() { s.Close() })
	return s
}
