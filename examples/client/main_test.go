package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/sidecar"
	"github.com/bollard-dev/bollard/pkg/sidecar/sidecartest"
)

// TestAgainstDevMode runs the README's demo: `sidecar dev`, then this client.
func TestAgainstDevMode(t *testing.T) {
	// Dev mode writes its banner and the audit records here, the records
	// from the log's own goroutine.
	banner := &syncBuffer{}
	addrs := sidecartest.Dev(t, sidecar.DevOptions{Out: banner})
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

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
