package sidecar

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestHealthCheck(t *testing.T) {
	a := startDev(t)
	var out bytes.Buffer
	if err := HealthMain(t.Context(), []string{"--addr", a.GRPC.String()}, &out, &out); err != nil || !strings.Contains(out.String(), "SERVING") {
		t.Fatalf("health of a running sidecar: %v %q", err, out.String())
	}
	// Nothing listening: the probe fails, within its timeout.
	start := time.Now()
	if err := HealthCheck(t.Context(), "unix://"+t.TempDir()+"/none.sock", 500*time.Millisecond); err == nil {
		t.Fatal("health succeeded with nothing listening")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the failed check took %v", d)
	}
	if err := HealthMain(t.Context(), []string{"extra"}, &out, &out); err == nil {
		t.Error("stray arguments accepted")
	}
}
