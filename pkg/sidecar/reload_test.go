package sidecar

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/policies"
)

// TestPolicyDirReload runs dev mode on a copy of the shipped policies, then
// edits the grants (picked up), then breaks the Rego (rejected: the previous
// policy keeps deciding and /readyz reports the error).
func TestPolicyDirReload(t *testing.T) {
	dir := t.TempDir()
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(policies.FS, p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), raw, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	a := startDevWith(t, DevOptions{PolicyDir: dir})
	conn, err := grpc.NewClient(a.GRPC.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	gw := bollardv1.NewGatewayServiceClient(conn)
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+identity.DevKeys()["reader-bot"])
	p, _ := structpb.NewStruct(map[string]any{"body": map[string]any{"profile": map[string]any{"name": "x"}}})
	req := &bollardv1.ExecuteRequest{Action: "groups.create", Params: p}
	check := func() *bollardv1.CheckResponse {
		resp, err := gw.Check(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	before := check()
	if before.Allow {
		t.Fatal("reader-bot may create groups before the change")
	}

	grants := filepath.Join(dir, "grants.json")
	raw, _ := os.ReadFile(grants)
	changed := strings.Replace(string(raw), `"groups": "read"`, `"groups": "manage"`, 1)
	if changed == string(raw) {
		t.Fatal("the sample grants changed shape; update this test")
	}
	writeAtomically(t, grants, changed)
	waitFor(t, "the grants change", func() bool { return check().Allow })
	good := check().PolicyRevision

	writeAtomically(t, filepath.Join(dir, "broken.rego"), "package bollard.authz\n\ndecision := {")
	waitFor(t, "the broken policy to be reported", func() bool {
		return strings.Contains(readyz(t, a), "policy_reload_error")
	})
	metrics, err := http.Get("http://" + a.Admin.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	scraped, _ := io.ReadAll(metrics.Body)
	metrics.Body.Close()
	for _, want := range []string{`bollard_policy_reloads_total{result="ok"} 1`, `bollard_policy_reloads_total{result="error"} 1`} {
		if !strings.Contains(string(scraped), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if after := check(); !after.Allow || after.PolicyRevision != good {
		t.Errorf("after a broken change: allow=%v revision %s, want the previous revision %s", after.Allow, after.PolicyRevision, good)
	}
}

func writeAtomically(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path+".tmp", []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readyz(t *testing.T, a Addrs) string {
	t.Helper()
	resp, err := http.Get("http://" + a.Admin.String() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(body)
	return string(raw)
}
