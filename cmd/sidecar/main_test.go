package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bollard-dev/bollard/pkg/policytool"
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
		{args: []string{"approver"}, wantErr: "approver: --config is required"},
		{args: []string{"approver", "--config", badConfig}, wantErr: "state.backend: must be redis in approver mode"},
		{args: []string{"approver", "--config", badConfig, "extra"}, wantErr: "unexpected arguments"},
		{args: []string{"dev", "--log-level", "loud"}, wantErr: "log level"},
		{args: []string{"load", "-addr", "203.0.113.9:8181"}, wantErr: "not loopback"},
		{args: []string{"audit"}, wantErr: "usage: sidecar audit verify"},
		{args: []string{"audit", "verify", filepath.Join(t.TempDir(), "missing.log")}, wantErr: "missing.log"},
		{args: []string{"policy"}, wantErr: "help requested"},
		{args: []string{"policy", "help"}, wantOut: "replay"},
		{args: []string{"policy", "launch"}, wantErr: `unknown policy command "launch"`},
		{args: []string{"policy", "lint", "../../policies"}},
		{args: []string{"policy", "fmt", "-l", "--fail", "../../policies"}},
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

// The policy commands exit 1 for a negative result, so that scripts and CI
// can tell it from an error (2).
func TestPolicyExitCodes(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		wantOut  string
	}{
		// The exit code of a passing run: one file's tests suffice, as
		// policies.TestRego runs the whole library (minutes under -race).
		{args: []string{"policy", "test", "--run", `^data\.bollard\.grants_test\.`, "../../policies"}, wantCode: 0, wantOut: "ok  \t../../policies\t"},
		{args: []string{"policy", "check", "--agent", "reader-bot", "--action", "users.list", "--time", "2026-11-30T15:00:00Z"},
			wantCode: 0, wantOut: "ALLOW users.list by reader-bot"},
		{args: []string{"policy", "check", "--agent", "reader-bot", "--action", "users.delete", "--params", `{"userId": "00u1"}`,
			"--time", "2026-11-30T15:00:00Z"}, wantCode: 1, wantOut: "not_granted"},
		{args: []string{"policy", "check", "--agent", "reader-bot", "--action", "users.nope"}, wantCode: 2},
		{args: []string{"policy", "lint", filepath.Join(t.TempDir(), "missing")}, wantCode: 2},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(t.Context(), tc.args, &out, &errOut)
			code := 0
			if err != nil {
				code = report(&errOut, err)
			}
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d (err %v)\n%s%s", code, tc.wantCode, err, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("stdout = %q, want %q", out.String(), tc.wantOut)
			}
		})
	}
}

func TestReport(t *testing.T) {
	tests := []struct {
		err      error
		wantCode int
		wantOut  string
	}{
		{err: errors.New("boom"), wantCode: 2, wantOut: "bollard: boom\n"},
		{err: flag.ErrHelp, wantCode: 2},
		{err: &policytool.ExitCodeError{Code: 1}, wantCode: 1},
		{err: &policytool.ExitCodeError{Code: 1, Err: errors.New("3 problems")}, wantCode: 1, wantOut: "bollard: 3 problems\n"},
		{err: fmt.Errorf("wrapped: %w", &policytool.ExitCodeError{Code: 2, Err: flag.ErrHelp}), wantCode: 2},
	}
	for _, tc := range tests {
		var errOut bytes.Buffer
		if code := report(&errOut, tc.err); code != tc.wantCode || errOut.String() != tc.wantOut {
			t.Errorf("report(%v) = %d, %q; want %d, %q", tc.err, code, errOut.String(), tc.wantCode, tc.wantOut)
		}
	}
}
