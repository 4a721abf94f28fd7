package chart

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"sigs.k8s.io/yaml"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/config"
)

// libraryCopy is the chart's copy of the shipped policy library, from which
// it builds the policy ConfigMap when policies.grants is set.
var libraryCopy = filepath.Join(chartDir, "files", "policies")

const refreshLibrary = "refresh the chart's copy with `rm -rf charts/bollard/files/policies && mkdir -p charts/bollard/files/policies && " +
	"for f in policies/*.rego policies/*.json; do case $f in *_test.rego) ;; *) cp \"$f\" charts/bollard/files/policies/;; esac; done`, " +
	"then run go test ./test/chart -update and review the golden files"

// shippedLibrary reads the runtime policy of policies/: every .rego and
// .json file but the Rego tests.
func shippedLibrary(t *testing.T) map[string][]byte {
	t.Helper()
	return readPolicyDir(t, filepath.Join(repoRoot, "policies"))
}

func readPolicyDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("%v (%s)", err, refreshLibrary)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasSuffix(name, "_test.rego") || !(strings.HasSuffix(name, ".rego") || strings.HasSuffix(name, ".json")) {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = raw
	}
	return files
}

// TestPolicyLibraryCopy checks that charts/bollard/files/policies is
// policies/ byte for byte (its .rego and .json files but the tests), and
// holds nothing else: the chart's library cannot drift from the shipped one.
func TestPolicyLibraryCopy(t *testing.T) {
	want := shippedLibrary(t)
	entries, err := os.ReadDir(libraryCopy)
	if err != nil {
		t.Fatalf("%v (%s)", err, refreshLibrary)
	}
	got := map[string][]byte{}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(libraryCopy, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got[e.Name()] = raw
	}
	for name, w := range want {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("charts/bollard/files/policies lacks %s (%s)", name, refreshLibrary)
		case !bytes.Equal(g, w):
			t.Errorf("charts/bollard/files/policies/%s differs from policies/%s (%s)", name, name, refreshLibrary)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("charts/bollard/files/policies/%s is not in policies/ (%s)", name, refreshLibrary)
		}
	}
	if len(want) == 0 {
		t.Fatal("policies/ has no policy files")
	}
}

// grants is data.bollard.config.grants (docs/policies.md).
type grants struct {
	Agents  map[string]map[string]string `json:"agents"`
	Actions map[string]struct {
		Allow []string `json:"allow"`
		Deny  []string `json:"deny"`
	} `json:"actions"`
}

// grantsFromValues reads policies.grants of a values file, as JSON.
func grantsFromValues(t *testing.T, valuesFile string) json.RawMessage {
	t.Helper()
	raw, err := os.ReadFile(valuesFile)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Policies struct {
			Grants json.RawMessage `json:"grants"`
		} `json:"policies"`
	}
	if err := yaml.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Policies.Grants) == 0 {
		t.Fatalf("%s sets no policies.grants", valuesFile)
	}
	return v.Policies.Grants
}

// TestGrantsRendered checks the policy ConfigMap the chart builds from
// policies.grants: the shipped library byte for byte, with grants.json
// holding exactly the values, and policy.dir pointing at it.
func TestGrantsRendered(t *testing.T) {
	valuesFile := filepath.Join(chartDir, "ci", "grants-values.yaml")
	out, err := template(t, "-f", valuesFile)
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	r := decode(t, out)
	var policies, cfgMap map[string]string
	for _, cm := range r.configMaps {
		switch {
		case strings.HasSuffix(cm.Name, "-policies"):
			policies = cm.Data
		case strings.HasSuffix(cm.Name, "-config"):
			cfgMap = cm.Data
		}
	}
	if policies == nil {
		t.Fatal("policies.grants rendered no policy ConfigMap")
	}
	cfg, err := config.Parse([]byte(cfgMap["bollard.yaml"]))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Policy.Dir == "" {
		t.Errorf("policies.grants does not set policy.dir")
	}
	if r.podTemplate(t).Annotations["checksum/bollard-policies"] == "" {
		t.Errorf("the pod template lacks checksum/bollard-policies: a grants change would not roll the pods")
	}
	library := shippedLibrary(t)
	for name, want := range library {
		got, ok := policies[name]
		switch {
		case !ok:
			t.Errorf("the policy ConfigMap lacks %s", name)
		case name == "grants.json":
		case got != string(want):
			t.Errorf("the policy ConfigMap's %s differs from policies/%s", name, name)
		}
	}
	for name := range policies {
		if _, ok := library[name]; !ok {
			t.Errorf("the policy ConfigMap has %s, which policies/ does not", name)
		}
	}

	var rendered struct {
		Bollard struct {
			Config map[string]json.RawMessage `json:"config"`
		} `json:"bollard"`
	}
	if err := json.Unmarshal([]byte(policies["grants.json"]), &rendered); err != nil {
		t.Fatalf("grants.json: %v\n%s", err, policies["grants.json"])
	}
	if keys := slices.Sorted(maps.Keys(rendered.Bollard.Config)); !slices.Equal(keys, []string{"grants"}) {
		t.Errorf("grants.json sets data.bollard.config %v, want only grants", keys)
	}
	var got, want any
	if err := json.Unmarshal(rendered.Bollard.Config["grants"], &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(grantsFromValues(t, valuesFile), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("grants.json holds %v, the values %v", got, want)
	}

	// Without policies.grants the embedded policies stay: no ConfigMap.
	out, err = template(t, minimalSet...)
	if err != nil {
		t.Fatal(err)
	}
	for _, cm := range decode(t, out).configMaps {
		if strings.HasSuffix(cm.Name, "-policies") {
			t.Errorf("the default values render a policy ConfigMap")
		}
	}
}

// checkGrantsDecide checks that the sidecar decides by the grants of the
// values: for each agent of agentKeys, ListActions shows as allowed exactly
// the actions its areas' grants or its allow list cover, less its deny list.
func checkGrantsDecide(t *testing.T, conn *grpc.ClientConn, as func(string) context.Context, raw json.RawMessage) {
	t.Helper()
	var g grants
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	client := bollardv1.NewGatewayServiceClient(conn)
	for agent := range agentKeys {
		res, err := client.ListActions(as(agent), &bollardv1.ListActionsRequest{IncludeDenied: true})
		if err != nil {
			t.Fatalf("ListActions as %s: %v", agent, err)
		}
		if len(res.GetActions()) == 0 {
			t.Fatalf("ListActions as %s lists no actions", agent)
		}
		allowed := 0
		for _, a := range res.GetActions() {
			var want bool
			switch g.Agents[agent][a.GetArea()] {
			case "manage":
				want = true
			case "read":
				want = a.GetAccess() == bollardv1.Access_ACCESS_READ
			}
			lists := g.Actions[agent]
			if slices.Contains(lists.Allow, a.GetName()) {
				want = true
			}
			if slices.Contains(lists.Deny, a.GetName()) {
				want = false
			}
			if a.GetAllowed() != want {
				t.Errorf("%s may call %s (%s, %s): %v, want %v by the grants of the values (%v)",
					agent, a.GetName(), a.GetArea(), a.GetAccess(), a.GetAllowed(), want, a.GetDenyReasons())
			}
			if a.GetAllowed() {
				allowed++
			}
		}
		t.Logf("%s may call %d of %d actions", agent, allowed, len(res.GetActions()))
		if allowed == 0 {
			t.Errorf("%s may call nothing: the test would not show the grants at work", agent)
		}
	}
}

// TestHardeningRejectsAgentOverrides checks that the hardening checks catch
// an agent securityContext that values loosen: a container that may run as
// root or write its root filesystem fails them.
func TestHardeningRejectsAgentOverrides(t *testing.T) {
	for _, c := range []struct {
		name string
		set  []string
		want string
	}{
		{"root", []string{"agent.securityContext.runAsNonRoot=false"}, "may run as root"},
		{"writable root filesystem", []string{"agent.securityContext.readOnlyRootFilesystem=false"}, "writable root filesystem"},
		{"privilege escalation", []string{"agent.securityContext.allowPrivilegeEscalation=true"}, "privilege escalation"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{}, minimalSet...)
			for _, s := range c.set {
				args = append(args, "--set", s)
			}
			out, err := template(t, args...)
			if err != nil {
				t.Fatalf("helm template: %v", err)
			}
			pod := decode(t, out).podTemplate(t).Spec
			for _, ctr := range pod.Containers {
				if ctr.Name != "agent" {
					continue
				}
				problems := containerProblems(pod.SecurityContext, ctr)
				if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, c.want) }) {
					t.Errorf("the hardening checks pass an agent with %v: %v", c.set, problems)
				}
				return
			}
			t.Fatal("no agent container")
		})
	}

	// Another non-root UID passes: it reaches the socket through fsGroup.
	out, err := template(t, append(append([]string{}, minimalSet...), "--set", "agent.securityContext.runAsUser=10001")...)
	if err != nil {
		t.Fatal(err)
	}
	r := decode(t, out)
	checkHardening(t, r, true)
	pod := r.podTemplate(t).Spec
	if pod.SecurityContext == nil || pod.SecurityContext.FSGroup == nil || *pod.SecurityContext.FSGroup != 65532 {
		t.Errorf("the pod's fsGroup is not 65532: an agent with another UID cannot reach the socket")
	}
	for _, ctr := range pod.Containers {
		if ctr.Name == "agent" && (ctr.SecurityContext.RunAsUser == nil || *ctr.SecurityContext.RunAsUser != 10001) {
			t.Errorf("agent.securityContext.runAsUser is not applied: %v", ctr.SecurityContext.RunAsUser)
		}
	}
}
