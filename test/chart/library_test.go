package chart

import (
	"os"
	"path/filepath"
	"testing"
)

// TestNamedTemplates renders testdata/parent, a team's chart that depends on
// charts/bollard and adds Bollard to its own StatefulSet with the public
// named templates (bollard.sidecar, bollard.volumes, bollard.agentEnv,
// bollard.agentVolumeMounts, bollard.podAnnotations), and checks the result
// like the chart's own Deployment.
func TestNamedTemplates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "parent")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "parent"))); err != nil {
		t.Fatal(err)
	}
	// As `helm dependency build` would, without a repository.
	if err := os.CopyFS(filepath.Join(dir, "charts", "bollard"), os.DirFS(chartDir)); err != nil {
		t.Fatal(err)
	}
	if _, err := helmLint(t, dir); err != nil {
		t.Fatalf("helm lint --strict: %v", err)
	}
	out, err := helmTemplate(t, "team", dir, "agents")
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	golden(t, filepath.Join("testdata", "named-templates.golden.yaml"), out)
	r := decode(t, out)
	if len(r.deployments) != 0 {
		t.Errorf("agent.enabled=false still renders the chart's Deployment")
	}
	checkHardening(t, r, false)
	checkConfig(t, r)
}
