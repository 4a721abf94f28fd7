package chart

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	commonutil "helm.sh/helm/v4/pkg/chart/common/util"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"helm.sh/helm/v4/pkg/strvals"
)

// repoRoot is the module root, two levels up from this package.
var repoRoot = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}()

var chartDir = filepath.Join(repoRoot, "charts", "bollard")

// The chart is rendered and linted with Helm's Go SDK, in process: the
// tests need only Go, and the Helm version is the one go.mod pins. The
// rendering takes the steps of `helm template` (pkg/action's client-only
// install and pkg/cmd/template.go) from Helm's library packages rather than
// through pkg/action, which would bring a Kubernetes client, registry and
// plugin runtime into the test binary for nothing.

// helmTemplate renders the chart in dir as `helm template RELEASE DIR
// --namespace NAMESPACE --kube-version kubeVersion ARGS` prints it, where
// args are the values flags mergeValues takes.
func helmTemplate(t *testing.T, releaseName, dir, namespace string, args ...string) (string, error) {
	t.Helper()
	vals, err := mergeValues(args)
	if err != nil {
		return "", err
	}
	caps, err := capabilities()
	if err != nil {
		return "", err
	}
	ch, err := loader.Load(dir)
	if err != nil {
		return "", fmt.Errorf("load chart %s: %w", dir, err)
	}
	if c := ch.Metadata.KubeVersion; c != "" && !chartutil.IsCompatibleRange(c, caps.KubeVersion.String()) {
		return "", fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", c, caps.KubeVersion.Version)
	}
	// Dependencies must be in charts/ already: `helm template` fetches
	// none without --dependency-update.
	for _, d := range ch.Metadata.Dependencies {
		if !slices.ContainsFunc(ch.Dependencies(), func(c *chartv2.Chart) bool { return c.Name() == d.Name }) {
			return "", fmt.Errorf("chart %s: dependency %s is not in charts/ (helm dependency build)", ch.Name(), d.Name)
		}
	}
	// Applies the dependencies' conditions, tags and import-values.
	if err := chartutil.ProcessDependencies(ch, vals); err != nil {
		return "", fmt.Errorf("chart dependencies processing failed: %w", err)
	}
	opts := common.ReleaseOptions{Name: releaseName, Namespace: namespace, Revision: 1, IsInstall: true}
	// Coalesces the values and checks them against values.schema.json.
	renderVals, err := commonutil.ToRenderValuesWithSchemaValidation(ch, vals, opts, caps, false)
	if err != nil {
		return "", err
	}
	files, err := engine.Engine{}.RenderWithContext(t.Context(), ch, renderVals)
	if err != nil {
		return "", err
	}
	for name := range files {
		if path.Base(name) == "NOTES.txt" {
			delete(files, name)
		}
	}
	hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return "", err
	}
	// As `helm template` prints a release: the manifests in install order,
	// then the hooks.
	var b bytes.Buffer
	for _, m := range manifests {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", m.Name, m.Content)
	}
	var out strings.Builder
	fmt.Fprintln(&out, strings.TrimSpace(b.String()))
	for _, h := range hooks {
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", h.Path, h.Manifest)
	}
	return out.String(), nil
}

// helmLint lints the chart in dir as `helm lint --strict --kube-version
// kubeVersion DIR ARGS` does. It returns every message lint reported, one a
// line as helm prints them ("[WARNING] path: ..."), and an error naming the
// messages that fail strict linting (warnings and errors).
func helmLint(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	vals, err := mergeValues(args)
	if err != nil {
		return "", err
	}
	caps, err := capabilities()
	if err != nil {
		return "", err
	}
	// "default" is helm's namespace without a kubeconfig.
	linter := lint.RunAll(dir, vals, "default", lint.WithKubeVersion(&caps.KubeVersion))
	var out strings.Builder
	var problems []error
	for _, m := range linter.Messages {
		fmt.Fprintln(&out, m.Error())
		if m.Severity >= support.WarningSev {
			problems = append(problems, m)
		}
	}
	if len(problems) > 0 {
		return out.String(), fmt.Errorf("lint %s: %w", dir, errors.Join(problems...))
	}
	return out.String(), nil
}

// capabilities are the fake cluster's that `helm template` renders for,
// at kubeVersion.
func capabilities() (*common.Capabilities, error) {
	kv, err := common.ParseKubeVersion(kubeVersion)
	if err != nil {
		return nil, fmt.Errorf("parse kube version %s: %w", kubeVersion, err)
	}
	caps := common.DefaultCapabilities.Copy()
	caps.KubeVersion = *kv
	return caps, nil
}

// mergeValues reads helm's values flags (-f/--values, --set, --set-string,
// --set-file; "--flag value" or "--flag=value") into the values helm passes
// to the chart, merged in helm's order (pkg/cli/values: files, --set,
// --set-string, --set-file), whatever their order in args.
func mergeValues(args []string) (map[string]any, error) {
	var files, set, setString, setFile []string
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(args[i], "=")
		if !hasValue {
			if i+1 == len(args) {
				return nil, fmt.Errorf("flag %s has no value", name)
			}
			i++
			value = args[i]
		}
		switch name {
		case "-f", "--values":
			files = append(files, value)
		case "--set":
			set = append(set, value)
		case "--set-string":
			setString = append(setString, value)
		case "--set-file":
			setFile = append(setFile, value)
		default:
			return nil, fmt.Errorf("unsupported helm flag %s", name)
		}
	}
	vals := map[string]any{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		m, err := loader.LoadValues(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("failed to parse %s: %w", f, err)
		}
		vals = loader.MergeMaps(vals, m)
	}
	for _, s := range set {
		if err := strvals.ParseInto(s, vals); err != nil {
			return nil, fmt.Errorf("failed parsing --set data: %w", err)
		}
	}
	for _, s := range setString {
		if err := strvals.ParseIntoString(s, vals); err != nil {
			return nil, fmt.Errorf("failed parsing --set-string data: %w", err)
		}
	}
	readFile := func(rs []rune) (any, error) {
		raw, err := os.ReadFile(string(rs))
		return string(raw), err
	}
	for _, s := range setFile {
		if err := strvals.ParseIntoFile(s, vals, readFile); err != nil {
			return nil, fmt.Errorf("failed parsing --set-file data: %w", err)
		}
	}
	return vals, nil
}
