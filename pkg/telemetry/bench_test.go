package telemetry_test

import (
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/telemetry"
)

func newBenchInstruments(b *testing.B) *telemetry.Instruments {
	b.Helper()
	clearOTelEnv(b)
	tel, err := telemetry.Setup(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tel.Shutdown(b.Context()) })
	in, err := telemetry.NewInstruments(tel.MeterProvider(), telemetry.Observed{})
	if err != nil {
		b.Fatal(err)
	}
	return in
}

// BenchmarkDecision is the cost every call pays for its decision metrics.
func BenchmarkDecision(b *testing.B) {
	in := newBenchInstruments(b)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		in.Decision(ctx, telemetry.ResultDeny, "users", "users.deactivate", "not_granted", 12*time.Microsecond)
	}
}

func BenchmarkDecisionParallel(b *testing.B) {
	in := newBenchInstruments(b)
	ctx := b.Context()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			in.Decision(ctx, telemetry.ResultAllow, "users", "users.get", "", 12*time.Microsecond)
		}
	})
}

func BenchmarkOktaRequest(b *testing.B) {
	in := newBenchInstruments(b)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		in.OktaRequest(ctx, "users.get", 200, 80*time.Millisecond)
	}
}
