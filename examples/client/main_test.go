package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/sidecar"
)

// TestAgainstDevMode runs the README's demo: `sidecar dev`, then this client.
func TestAgainstDevMode(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan sidecar.Addrs, 1)
	var banner bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- sidecar.Dev(ctx, sidecar.DevOptions{Listen: "127.0.0.1:0", AdminListen: "127.0.0.1:0", Out: &banner,
			Ready: func(a sidecar.Addrs) { ready <- a }})
	}()
	var addrs sidecar.Addrs
	select {
	case addrs = <-ready:
	case err := <-done:
		t.Fatalf("dev mode stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("dev mode did not start")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dev mode: %v", err)
		}
	})
	keys := identity.DevKeys()
	for _, want := range []string{addrs.GRPC.String(), keys["reader-bot"], keys["helpdesk-bot"], keys["provisioner-bot"], "manage: user_lifecycle, sessions", "grpcurl", "/readyz"} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, banner.String())
		}
	}

	var out bytes.Buffer
	if err := run(t.Context(), addrs.GRPC.String(), keys["reader-bot"], keys["helpdesk-bot"], &out); err != nil {
		t.Fatalf("client: %v\n%s", err, out.String())
	}
	for _, want := range []string{"PermissionDenied POLICY_DENIED", "not_granted", "CONFIRMATION_REQUIRED", "confirmed: okta status 200", "is now DEPROVISIONED"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
