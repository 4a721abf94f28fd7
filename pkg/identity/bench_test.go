package identity

import (
	"fmt"
	"testing"

	"google.golang.org/grpc/metadata"
)

// Lookup cost must stay flat as the number of agents grows.
func BenchmarkKeyStoreAuthenticate(b *testing.B) {
	for _, agents := range []int{10, 10_000} {
		entries := make([]AgentKey, agents)
		keys := make([]string, agents)
		for i := range entries {
			keys[i] = mustKey(b)
			entries[i] = AgentKey{ID: fmt.Sprintf("agent-%05d", i), KeySHA256: HashKey(keys[i])}
		}
		ks, err := NewKeyStore(entries)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("agents=%d/hit", agents), func(b *testing.B) {
			ctx := b.Context()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := ks.Authenticate(ctx, keys[i%agents]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(fmt.Sprintf("agents=%d/miss", agents), func(b *testing.B) {
			ctx, wrong := b.Context(), mustKey(b)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ks.Authenticate(ctx, wrong); err == nil {
					b.Fatal("accepted a wrong key")
				}
			}
		})
	}
}

func BenchmarkJWTVerify(b *testing.B) {
	for _, k := range []testKey{rsaKeyA(), ecKeyA()} {
		b.Run(string(k.alg), func(b *testing.B) {
			v, _ := newFileVerifier(b, []testKey{k})
			tok := k.sign(b, goodClaims("system:serviceaccount:agents:reader-bot"))
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Authenticate(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFromMetadata(b *testing.B) {
	md := metadata.Pairs("authorization", "Bearer "+mustKey(b))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FromMetadata(md); err != nil {
			b.Fatal(err)
		}
	}
}
