package sidecar

import (
	"testing"
	"time"
)

func TestHealthCheck(t *testing.T) {
	a := startDev(t)
	if err := HealthCheck(t.Context(), a.GRPC.String(), 2*time.Second); err != nil {
		t.Fatalf("health of a running sidecar: %v", err)
	}
	// Nothing listening: the probe fails, within its timeout.
	start := time.Now()
	if err := HealthCheck(t.Context(), "unix://"+t.TempDir()+"/none.sock", 500*time.Millisecond); err == nil {
		t.Fatal("health succeeded with nothing listening")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the failed check took %v", d)
	}
}
