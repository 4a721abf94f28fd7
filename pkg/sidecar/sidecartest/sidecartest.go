package sidecartest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/sidecar"
)

// Dev starts sidecar.Dev with o (its listen addresses, readiness callback and,
// unless set, logger are replaced) and returns its addresses. The test fails
// if it does not start within 30 seconds or stops with an error.
func Dev(t testing.TB, o sidecar.DevOptions) sidecar.Addrs {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan sidecar.Addrs, 1)
	done := make(chan error, 1)
	o.Listen, o.AdminListen = "127.0.0.1:0", "127.0.0.1:0"
	o.Ready = func(a sidecar.Addrs) { ready <- a }
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	go func() { done <- sidecar.Dev(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dev mode: %v", err)
		}
	})
	select {
	case a := <-ready:
		return a
	case err := <-done:
		t.Fatalf("dev mode stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("dev mode did not start")
	}
	return sidecar.Addrs{}
}
