package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bollard-dev/bollard/pkg/sidecar"
	"github.com/bollard-dev/bollard/pkg/sidecar/sidecartest"
)

// `sidecar health` prints SERVING for a running sidecar and refuses stray
// arguments (the liveness probe's command line must be exactly right).
func TestHealth(t *testing.T) {
	a := sidecartest.Dev(t, sidecar.DevOptions{})
	var out bytes.Buffer
	if err := run(t.Context(), []string{"health", "--addr", a.GRPC.String()}, &out, &out); err != nil || !strings.Contains(out.String(), "SERVING") {
		t.Fatalf("health of a running sidecar: %v %q", err, out.String())
	}
	if err := run(t.Context(), []string{"health", "extra"}, &out, &out); err == nil || !strings.Contains(err.Error(), "unexpected arguments: extra") {
		t.Errorf("stray arguments: %v", err)
	}
	if err := run(t.Context(), []string{"health", "--addr", "unix://" + t.TempDir() + "/none.sock", "--timeout", "200ms"}, &out, &out); err == nil {
		t.Error("health succeeded with nothing listening")
	}
}
