package main

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/sidecar"
	"github.com/bollard-dev/bollard/pkg/sidecar/sidecartest"
)

// `sidecar load` with its defaults (the dev reader-bot key, users.get on
// the simulator's seed user) runs against dev mode and prints its report.
func TestLoadAgainstDevMode(t *testing.T) {
	addrs := sidecartest.Dev(t, sidecar.DevOptions{})
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"load", "-addr", addrs.GRPC.String(), "-c", "2", "-n", "20"}, &out, &errOut); err != nil {
		t.Fatalf("load: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"check users.get: 2 callers on 1 connections for ", "requests 20  rps "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout = %q, want %q", out.String(), want)
		}
	}
	if strings.Contains(out.String(), "errors") {
		t.Errorf("errors with the default key and params: %q", out.String())
	}
	if err := run(t.Context(), []string{"load", "--params", "{"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "--params") {
		t.Errorf("bad --params: %v", err)
	}
}

// `sidecar load --rpc okta` sends the action straight to the Okta URL with
// the token from $OKTA_API_TOKEN, and reports it as the baseline.
func TestLoadOktaBaseline(t *testing.T) {
	sim := oktasim.New(oktasim.WithAPIToken("00bench-token"), oktasim.WithRateLimit(1<<30, time.Minute))
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	t.Setenv("OKTA_API_TOKEN", "00bench-token")
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"load", "--rpc", "okta", "--okta-url", srv.URL, "-c", "2", "-n", "20"}, &out, &errOut); err != nil {
		t.Fatalf("load: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"okta users.get: 2 callers straight to " + srv.URL + " for ", "requests 20  rps "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout = %q, want %q", out.String(), want)
		}
	}
	if strings.Contains(out.String(), "errors") {
		t.Errorf("errors: %q", out.String())
	}
}
