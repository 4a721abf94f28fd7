package decision_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/compile"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/policies"
)

// TestOPABuildBundle: the shipped policies built into a signed bundle the
// way `cd policies && opa build . --signing-key ...` builds it (OPA's own
// compile package) decide exactly as the directory does.
func TestOPABuildBundle(t *testing.T) {
	dir := t.TempDir()
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, p), 0o755)
		}
		b, err := fs.ReadFile(policies.FS, p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	good, _, _ := testKeys(t)
	var buf bytes.Buffer
	t.Chdir(dir)
	err = compile.New().WithPaths(".").WithOutput(&buf).WithRevision("build-42").
		WithBundleSigningConfig(bundle.NewSigningConfig(good.private, good.alg, "")).
		WithBundleVerificationKeyID("default").
		Build(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	fromBundle, _ := newEngine(t, decision.WithBundleFile(bundleFile(t, buf.Bytes())),
		decision.WithBundleVerification(good.verificationOpts), decision.WithWatch(false))
	fromDir, _ := newEngine(t, decision.WithPolicyDir(dir), decision.WithWatch(false))
	if fromBundle.Revision() != "build-42" {
		t.Errorf("revision %q, want the manifest's", fromBundle.Revision())
	}
	context := map[string]any{
		"counts": map[string]any{"destructive": map[string]any{"hour": 0, "day": 0}},
		"target": map[string]any{"user": map[string]any{"id": "00u1", "resolved": true, "groups": []any{}, "admin_roles": []any{}}},
	}
	for _, agent := range []string{"reader-bot", "helpdesk-bot", "provisioner-bot", "stranger"} {
		for _, a := range catalog.Actions() {
			for _, at := range []time.Time{mondayNoon, saturday} {
				in := decision.Input{Agent: decision.Agent{ID: agent, AuthMethod: "key"}, Action: a,
					Resource: map[string]string{"userId": "00u1", "groupId": "00g1", "appId": "0oa1"}, Context: context, Time: at}
				want, got := fromDir.Decide(t.Context(), in), fromBundle.Decide(t.Context(), in)
				if got.Allow != want.Allow || !reflect.DeepEqual(got.Deny, want.Deny) || !reflect.DeepEqual(got.Obligations, want.Obligations) {
					t.Errorf("%s %s: bundle decided %+v, directory %+v", agent, a.Name, got, want)
				}
			}
		}
	}
}
