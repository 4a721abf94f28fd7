package forward

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// BenchmarkDoLimits is the cost of one call to an Okta that answers at
// once, with this sidecar's own limits and with the fleet's through a
// redis-server on loopback, its sync running in the background as in a
// sidecar: the difference is what sharing adds per call (no round trip on
// the call's path; the sync's share of the machine). "sync" is the cost of
// one sync, for scale.
func BenchmarkDoLimits(b *testing.B) {
	// Okta's remaining falls by one a call, as it does in a window.
	reset := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	var n atomic.Int64
	okta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Rate-Limit-Limit", "1000000000")
		w.Header().Set("X-Rate-Limit-Remaining", strconv.FormatInt(1e9-n.Add(1), 10))
		w.Header().Set("X-Rate-Limit-Reset", reset)
		io.WriteString(w, `{}`)
	}))
	defer okta.Close()
	call, err := catalog.Bind("users.get", map[string]any{"userId": "00u1"})
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, start func(*Client), opts ...Option) {
		c, err := New(okta.URL, append([]Option{WithAPIToken(token)}, opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		start(c)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := c.Do(b.Context(), call, "d"); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("memory", func(b *testing.B) { run(b, func(*Client) {}) })
	b.Run("redis", func(b *testing.B) {
		srv := redistest.Start(b)
		st, err := state.Open(b.Context(), srv.Config(), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		b.Run("ping", func(b *testing.B) { // one round trip, for scale
			for b.Loop() {
				if err := st.Client().Ping(b.Context()).Err(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("do", func(b *testing.B) {
			ctx, stop := context.WithCancel(b.Context())
			defer stop()
			run(b, func(c *Client) {
				if err := c.fleet.sync(ctx); err != nil {
					b.Fatal(err)
				}
				go c.ShareLimits(ctx)
			}, WithSharedLimits(st, 50))
		})
		b.Run("sync", func(b *testing.B) {
			c, err := New(okta.URL, WithAPIToken(token), WithSharedLimits(st, 50))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				c.fleet.finish(BucketOf(call.Action), false, endAnswered, RateLimit{Limit: 1e9, Remaining: 1e9 - 1, Reset: time.Now().Add(time.Minute).Unix()}, time.Now())
				if err := c.fleet.sync(b.Context()); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
