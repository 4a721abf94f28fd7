package chart

import (
	"bytes"
	"debug/buildinfo"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// repoRoot is the module root, two levels up from this package.
var repoRoot = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}()

var chartDir = filepath.Join(repoRoot, "charts", "bollard")

var (
	helmOnce sync.Once
	helmPath string
	helmErr  error
)

// helm returns the path of the pinned helm binary: the one .ci/install-tools
// puts in $(go env GOPATH)/bin, else helm on PATH. A missing or different
// helm fails the test: the golden files depend on helm's rendering.
func helm(t *testing.T) string {
	t.Helper()
	helmOnce.Do(func() {
		want, err := pinnedHelmVersion()
		if err != nil {
			helmErr = err
			return
		}
		var candidates []string
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			for _, p := range filepath.SplitList(strings.TrimSpace(string(out))) {
				candidates = append(candidates, filepath.Join(p, "bin", "helm"))
			}
		}
		if p, err := exec.LookPath("helm"); err == nil {
			candidates = append(candidates, p)
		}
		for _, c := range candidates {
			if _, err := os.Stat(c); err != nil {
				continue
			}
			// helm built by go install reports only major.minor itself; the
			// module version in the binary is exact.
			info, err := buildinfo.ReadFile(c)
			if err != nil {
				continue
			}
			if got := info.Main.Version; got == want {
				helmPath = c
				return
			} else {
				helmErr = errors.New("helm at " + c + " is " + got + ", CI pins " + want)
			}
		}
		if helmErr == nil {
			helmErr = errors.New("helm " + want + " not found in $(go env GOPATH)/bin or on PATH")
		}
	})
	if helmErr != nil {
		t.Fatalf("%v: run .ci/install-tools (go install helm.sh/helm/v3/cmd/helm@<HELM_VERSION in .ci/tools.env>)", helmErr)
	}
	return helmPath
}

// pinnedHelmVersion reads HELM_VERSION from .ci/tools.env.
func pinnedHelmVersion() (string, error) {
	raw, err := os.ReadFile(filepath.Join(repoRoot, ".ci", "tools.env"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "HELM_VERSION="); ok {
			return v, nil
		}
	}
	return "", errors.New("HELM_VERSION is not set in .ci/tools.env")
}

// runHelm runs helm with args and returns standard output, or the combined
// output as the error.
func runHelm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), helm(t), args...)
	// No user config or cache leaks into the rendering.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), errors.New(err.Error() + ": " + stderr.String() + stdout.String())
	}
	return stdout.String(), nil
}
