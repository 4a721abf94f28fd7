package hooks

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/state"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// benchDelivery appends a delivery of n events with fresh uuids, counted
// from *next, shaped like Okta's (about 400 bytes an event).
func benchDelivery(buf []byte, next *atomic.Int64, n int) []byte {
	buf = append(buf, `{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","cloudEventsVersion":"0.1",`+
		`"source":"https://dev-1.okta.com/api/v1/eventHooks/who1","eventId":"d-1","eventTime":"2026-11-30T15:00:30.000Z",`+
		`"contentType":"application/json","data":{"events":[`...)
	for i := range n {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"uuid":"5d2c4a3e-8f1b-11ef-`...)
		buf = strconv.AppendInt(buf, next.Add(1), 10)
		buf = append(buf, `","published":"2026-11-30T15:00:29.412Z","eventType":"user.lifecycle.create","version":"0",`+
			`"severity":"INFO","displayMessage":"Create okta user","actor":{"id":"0oa1bollardsvc","type":"PublicClientApp",`+
			`"alternateId":"bollard","displayName":"Bollard"},"outcome":{"result":"SUCCESS"},"target":[{"id":"00u1ada",`+
			`"type":"User","alternateId":"ada@example.com","displayName":"Ada Lovelace"}],"transaction":{"type":"WEB","id":"Z0f7"}}`...)
	}
	return append(buf, `]}}`...)
}

// drain reads s until it ends, as a keeping-up subscriber would.
func drain(s *Subscription, got func(time.Time)) {
	for {
		m, err := s.Next(context.Background())
		if err != nil {
			return
		}
		if m.Event != nil && got != nil {
			got(time.Now())
		}
	}
}

func benchReceiver(b *testing.B) (*Receiver, *Hub) {
	hub, err := NewHub()
	if err != nil {
		b.Fatal(err)
	}
	rc, err := NewReceiver(hub, WithAuth(testHeader, testSecret))
	if err != nil {
		b.Fatal(err)
	}
	s, _ := hub.Subscribe(WithBuffer(maxBuffer))
	go drain(s, nil)
	b.Cleanup(hub.Close)
	return rc, hub
}

// BenchmarkReceiver is deliveries of 10 events accepted end to end on the
// receiver's side: authentication, parsing, de-duplication and publishing
// to one subscriber that keeps up. "handler" calls ServeHTTP directly;
// "http" and "http-parallel" go through a real server over loopback.
func BenchmarkReceiver(b *testing.B) {
	const perDelivery = 10
	b.Run("handler", func(b *testing.B) {
		rc, _ := benchReceiver(b)
		var next atomic.Int64
		var buf []byte
		b.ReportAllocs()
		for b.Loop() {
			buf = benchDelivery(buf[:0], &next, perDelivery)
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(buf))
			req.Header.Set(testHeader, string(testSecret))
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			rc.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
		b.ReportMetric(float64(b.N*perDelivery)/b.Elapsed().Seconds(), "events/s")
	})
	for _, parallel := range []bool{false, true} {
		name := "http"
		if parallel {
			name = "http-parallel"
		}
		b.Run(name, func(b *testing.B) {
			rc, _ := benchReceiver(b)
			srv := httptest.NewServer(rc)
			defer srv.Close()
			client := srv.Client()
			client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
			var next atomic.Int64
			post := func(buf []byte) []byte {
				buf = benchDelivery(buf[:0], &next, perDelivery)
				req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(buf))
				req.Header.Set(testHeader, string(testSecret))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return buf
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
				}
				return buf
			}
			b.ReportAllocs()
			start := time.Now()
			if parallel {
				b.RunParallel(func(pb *testing.PB) {
					var buf []byte
					for pb.Next() {
						buf = post(buf)
					}
				})
			} else {
				var buf []byte
				for b.Loop() {
					buf = post(buf)
				}
			}
			b.ReportMetric(float64(b.N*perDelivery)/time.Since(start).Seconds(), "events/s")
		})
	}
}

// BenchmarkEndToEnd is the latency from the start of Okta's POST to a
// subscriber holding the event, one event a delivery, over loopback HTTP.
// It reports p50 and p99 alongside ns/op.
func BenchmarkEndToEnd(b *testing.B) {
	rc, hub := benchReceiver(b)
	srv := httptest.NewServer(rc)
	defer srv.Close()
	s, err := hub.Subscribe()
	if err != nil {
		b.Fatal(err)
	}
	received := make(chan time.Time, 1)
	go drain(s, func(t time.Time) { received <- t })

	var next atomic.Int64
	var buf []byte
	lat := make([]time.Duration, 0, 1<<20)
	b.ReportAllocs()
	for b.Loop() {
		buf = benchDelivery(buf[:0], &next, 1)
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(buf))
		req.Header.Set(testHeader, string(testSecret))
		req.Header.Set("Content-Type", "application/json")
		t0 := time.Now()
		resp, err := srv.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		got := <-received
		if len(lat) < cap(lat) {
			lat = append(lat, got.Sub(t0))
		}
	}
	reportPercentiles(b, lat)
}

// BenchmarkPublish is the hub's fan-out of one event to 100 subscribers
// that keep up.
func BenchmarkPublish(b *testing.B) {
	hub, err := NewHub()
	if err != nil {
		b.Fatal(err)
	}
	defer hub.Close()
	for range 100 {
		s, err := hub.Subscribe(WithBuffer(maxBuffer))
		if err != nil {
			b.Fatal(err)
		}
		go drain(s, nil)
	}
	raw := []byte(ev("u", "user.lifecycle.create"))
	b.ReportAllocs()
	for b.Loop() {
		hub.Publish(&Event{UUID: "u", Type: "user.lifecycle.create", Raw: raw})
	}
}

// BenchmarkParse is the envelope parser alone, on Okta's sample delivery.
func BenchmarkParse(b *testing.B) {
	body, err := os.ReadFile("testdata/delivery.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := parseDelivery(body, 1000); err != nil {
			b.Fatal(err)
		}
	}
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkStreamEndToEnd is BenchmarkEndToEnd across the fleet: Okta's
// POST to replica A, de-duplicated and appended in Redis on loopback, read
// by replica B's reader and held by B's subscriber. p50 and p99 alongside.
func BenchmarkStreamEndToEnd(b *testing.B) {
	srv := redistest.Start(b)
	cfg := srv.Config()
	var hubs [2]*Hub
	var rc *Receiver
	for i := range hubs {
		ctx, cancel := context.WithCancel(context.Background())
		store, err := state.Open(ctx, cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		hub, _ := NewHub()
		stream, err := NewStream(store, hub)
		if err != nil {
			b.Fatal(err)
		}
		ran := make(chan struct{})
		go func() { stream.Run(ctx); close(ran) }()
		<-stream.Ready()
		b.Cleanup(func() { cancel(); <-ran; hub.Close(); store.Close() })
		hubs[i] = hub
		if i == 0 {
			if rc, err = NewReceiver(hub, WithAuth(testHeader, testSecret), WithStream(stream)); err != nil {
				b.Fatal(err)
			}
		}
	}
	httpSrv := httptest.NewServer(rc)
	defer httpSrv.Close()
	s, err := hubs[1].Subscribe()
	if err != nil {
		b.Fatal(err)
	}
	received := make(chan time.Time, 1)
	go drain(s, func(t time.Time) { received <- t })

	var next atomic.Int64
	next.Store(time.Now().UnixNano()) // uuids new to the store
	var buf []byte
	lat := make([]time.Duration, 0, 1<<20)
	b.ReportAllocs()
	for b.Loop() {
		buf = benchDelivery(buf[:0], &next, 1)
		req, _ := http.NewRequest(http.MethodPost, httpSrv.URL, bytes.NewReader(buf))
		req.Header.Set(testHeader, string(testSecret))
		req.Header.Set("Content-Type", "application/json")
		t0 := time.Now()
		resp, err := httpSrv.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("POST = %d", resp.StatusCode)
		}
		got := <-received
		if len(lat) < cap(lat) {
			lat = append(lat, got.Sub(t0))
		}
	}
	reportPercentiles(b, lat)
}
