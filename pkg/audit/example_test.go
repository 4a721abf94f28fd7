package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bollard-dev/bollard/pkg/audit"
)

func Example() {
	dir, _ := os.MkdirTemp("", "audit")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "audit.log")
	key := []byte("a per-deployment secret, 32 byte")

	var stdout bytes.Buffer // os.Stdout in the sidecar
	log, err := audit.New(
		audit.WithStdout(&stdout),
		audit.WithFile(path, 100<<20, 5),
		audit.WithHMACKey(key),
	)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	err = log.Write(ctx, &audit.Record{
		Time: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC), AgentID: "onboarding-bot", AuthMethod: "jwt",
		Action: "users.update", Area: "users", Access: "manage",
		Resource: map[string]string{"userId": "00u1"},
		Params: map[string]any{"userId": "00u1", "body": map[string]any{
			"credentials": map[string]any{"password": map[string]any{"value": "hunter2"}},
		}},
		Result: "ok", OktaStatus: 200,
	})
	if err != nil {
		panic(err) // fail-closed: the gateway refuses the call instead
	}
	if err := log.Close(ctx); err != nil {
		panic(err)
	}

	// An investigator with the key checks whether "hunter2" was the password sent.
	fmt.Println(strings.Contains(stdout.String(), log.MaskValue("hunter2")))
	fmt.Println(strings.Contains(stdout.String(), "hunter2"))
	fmt.Println(audit.VerifyFiles(ctx, []string{path}, audit.VerifyOptions{Key: key, InFlight: audit.DefaultInFlight}, io.Discard))
	// Output:
	// true
	// false
	// <nil>
}
