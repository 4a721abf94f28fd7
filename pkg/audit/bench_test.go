package audit

import (
	"io"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkWrite is the cost a call pays for its record: masking, encoding,
// chaining and write(2). The budget is a 10 µs median on the project's
// 2-core machine with a file sink and a stdout sink to io.Discard; Write
// returns once one sink has the record. With the file alone, every Write
// waits for its write(2). It reports p50 and p99 alongside ns/op.
func BenchmarkWrite(b *testing.B) {
	for _, tc := range []struct {
		name   string
		stdout bool
	}{{"file+stdout", true}, {"file", false}} {
		b.Run(tc.name, func(b *testing.B) {
			opts := []Option{WithFile(filepath.Join(b.TempDir(), "audit.log"), 64<<20, 1)}
			if tc.stdout {
				opts = append(opts, WithStdout(io.Discard))
			}
			l := newTestLogger(b, opts...)
			r := sampleRecord()
			// Preallocated so that recording never grows (copies) a slice
			// inside the measured loop, which would show up as p99.
			lat := make([]time.Duration, 0, 1<<22)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				if err := l.Write(b.Context(), r); err != nil {
					b.Fatal(err)
				}
				if len(lat) < cap(lat) {
					lat = append(lat, time.Since(t0))
				}
			}
			reportPercentiles(b, lat)
		})
	}
}

// BenchmarkCallRecords is the audit's cost for one call sent to Okta, as
// the gateway writes it: the intent, before the call, and the outcome,
// after it (the budget: median ≤ 10 µs for the pair).
func BenchmarkCallRecords(b *testing.B) {
	l := newTestLogger(b, WithFile(filepath.Join(b.TempDir(), "audit.log"), 64<<20, 1), WithStdout(io.Discard),
		WithSpool(filepath.Join(b.TempDir(), "audit.spool"), 0))
	intent, outcome := sampleRecord(), sampleRecord()
	intent.Kind, intent.Result, intent.OktaStatus = KindIntent, "pending", 0
	outcome.Kind = KindOutcome
	lat := make([]time.Duration, 0, 1<<22)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if err := l.Write(b.Context(), intent); err != nil {
			b.Fatal(err)
		}
		if err := l.Write(b.Context(), outcome); err != nil {
			b.Fatal(err)
		}
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
	}
	reportPercentiles(b, lat)
}

// BenchmarkWriteParallel is many calls recording at once: sinks batch
// concurrent records into one write(2).
func BenchmarkWriteParallel(b *testing.B) {
	path := filepath.Join(b.TempDir(), "audit.log")
	l := newTestLogger(b, WithFile(path, 64<<20, 1), WithStdout(io.Discard))
	b.ReportAllocs()
	b.SetParallelism(16) // 2 cores × 16 = 32 callers, like BenchmarkCheckGRPC
	b.RunParallel(func(pb *testing.PB) {
		r := sampleRecord()
		for pb.Next() {
			if err := l.Write(b.Context(), r); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkEncode is masking and encoding alone, without the sinks.
func BenchmarkEncode(b *testing.B) {
	m := newMasker(testKey)
	r := sampleRecord()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = appendBody(buf[:0], r, r.Time, m)
	}
	b.SetBytes(int64(len(buf)))
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}
