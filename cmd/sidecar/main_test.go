package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	badConfig := filepath.Join(t.TempDir(), "bollard.yaml")
	if err := os.WriteFile(badConfig, []byte("okta:\n  org_url: http://example.okta.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args    []string
		wantErr string
		wantOut string
	}{
		{args: []string{"version"}, wantOut: "bollard dev"},
		{args: []string{"help"}, wantOut: "commands:"},
		{args: nil, wantErr: "help requested"},
		{args: []string{"launch"}, wantErr: `unknown command "launch"`},
		{args: []string{"serve"}, wantErr: "--config is required"},
		{args: []string{"serve", "--config", badConfig}, wantErr: "okta.org_url"},
		{args: []string{"serve", "--config", filepath.Join(t.TempDir(), "missing.yaml")}, wantErr: "read config"},
		{args: []string{"dev", "--log-level", "loud"}, wantErr: "log level"},
		{args: []string{"load", "-addr", "203.0.113.9:8181"}, wantErr: "not loopback"},
		{args: []string{"audit"}, wantErr: "usage: sidecar audit verify"},
		{args: []string{"audit", "verify", filepath.Join(t.TempDir(), "missing.log")}, wantErr: "missing.log"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(t.Context(), tc.args, &out, &errOut)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("stdout = %q, want %q", out.String(), tc.wantOut)
			}
		})
	}
}
