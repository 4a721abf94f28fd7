package chart

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/bollard-dev/bollard/pkg/config"
)

// kubeVersion is the cluster version the chart is rendered and linted for,
// as with helm's --kube-version (in a test binary Helm's SDK otherwise
// assumes 1.20, older than the chart's 1.29 minimum for native sidecars).
const kubeVersion = "1.33.0"

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// minimalSet is what a team must set on top of values.yaml: the org, the
// credential's Secret, the agent keys' Secret and the agent's image.
var minimalSet = []string{
	"--set", "okta.orgUrl=https://example.okta.com",
	"--set", "okta.ssws.existingSecret=bollard-okta",
	"--set", "identity.agentKeys.existingSecret=bollard-agent-keys",
	"--set", "agent.image.repository=registry.example.com/agent",
}

type renderCase struct {
	name string
	args []string // values arguments for helm
}

// cases are the default values with only the required settings, and every
// values file under charts/bollard/ci/.
func cases(t *testing.T) []renderCase {
	t.Helper()
	cs := []renderCase{{name: "defaults", args: minimalSet}}
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 4 {
		t.Fatalf("charts/bollard/ci has %d values files, want at least 4", len(files))
	}
	for _, f := range files {
		cs = append(cs, renderCase{name: strings.TrimSuffix(filepath.Base(f), ".yaml"), args: []string{"-f", f}})
	}
	return cs
}

func TestLint(t *testing.T) {
	for _, c := range cases(t) {
		t.Run(c.name, func(t *testing.T) {
			out, err := helmLint(t, chartDir, c.args...)
			if err != nil {
				t.Fatalf("helm lint --strict: %v", err)
			}
			if strings.Contains(out, "[WARNING]") || strings.Contains(out, "[ERROR]") {
				t.Fatalf("helm lint --strict reported problems:\n%s", out)
			}
		})
	}
}

func template(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return helmTemplate(t, "bollard", chartDir, "agents", args...)
}

// rendered is a chart rendering decoded into the API types.
type rendered struct {
	deployments     []appsv1.Deployment
	statefulSets    []appsv1.StatefulSet
	configMaps      []corev1.ConfigMap
	services        []corev1.Service
	serviceAccounts []corev1.ServiceAccount
	networkPolicies []networkingv1.NetworkPolicy
	ingresses       []networkingv1.Ingress
	pdbs            []policyv1.PodDisruptionBudget
	serviceMonitors []serviceMonitor
}

// serviceMonitor is the part of the Prometheus Operator's type the chart
// uses, so that a misspelt field still fails the strict decoding.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path"`
			Interval string `json:"interval"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// decode splits helm's output into documents and decodes each strictly:
// an unknown field or a kind the chart should not render is an error.
func decode(t *testing.T, manifest string) rendered {
	t.Helper()
	var r rendered
	for i, doc := range strings.Split(manifest, "\n---\n") {
		if strings.TrimSpace(strings.TrimPrefix(doc, "---")) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		strict := func(into any) {
			t.Helper()
			if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
				t.Fatalf("%s (document %d) does not decode strictly: %v\n%s", tm.Kind, i, err, doc)
			}
		}
		switch tm.APIVersion + "/" + tm.Kind {
		case "apps/v1/Deployment":
			strict(appendNew(&r.deployments))
		case "apps/v1/StatefulSet":
			strict(appendNew(&r.statefulSets))
		case "v1/ConfigMap":
			strict(appendNew(&r.configMaps))
		case "v1/Service":
			strict(appendNew(&r.services))
		case "v1/ServiceAccount":
			strict(appendNew(&r.serviceAccounts))
		case "networking.k8s.io/v1/NetworkPolicy":
			strict(appendNew(&r.networkPolicies))
		case "networking.k8s.io/v1/Ingress":
			strict(appendNew(&r.ingresses))
		case "policy/v1/PodDisruptionBudget":
			strict(appendNew(&r.pdbs))
		case "monitoring.coreos.com/v1/ServiceMonitor":
			strict(appendNew(&r.serviceMonitors))
		default:
			// A Secret in particular: secret values are never chart values.
			t.Fatalf("document %d: unexpected %s %s", i, tm.APIVersion, tm.Kind)
		}
	}
	return r
}

func appendNew[T any](s *[]T) *T {
	*s = append(*s, *new(T))
	return &(*s)[len(*s)-1]
}

func TestRender(t *testing.T) {
	for _, c := range cases(t) {
		t.Run(c.name, func(t *testing.T) {
			out, err := template(t, c.args...)
			if err != nil {
				t.Fatalf("helm template: %v", err)
			}
			golden(t, filepath.Join("testdata", c.name+".golden.yaml"), out)
			r := decode(t, out)
			// A release of the approver alone renders no agent workload.
			if len(r.approverDeployments()) == 0 || r.hasAgent() {
				checkHardening(t, r, true)
				checkConfig(t, r)
			}
			if len(r.approverDeployments()) > 0 {
				checkApprover(t, r)
			}
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./test/chart -update)", err)
	}
	if string(want) != got {
		t.Errorf("rendering differs from %s (run go test ./test/chart -update and review the diff):\n%s", path, diff(string(want), got))
	}
}

// diff shows the first lines that differ.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, wl, gl)
		}
	}
	return ""
}

// checkHardening fails on a container that may run as root, write its root
// filesystem, escalate privileges, keep a capability, run unconfined or lacks
// limits; on a missing NetworkPolicy or PodDisruptionBudget; and on a
// Bollard container that is not a native sidecar with probes.
func checkHardening(t *testing.T, r rendered, wantPDB bool) {
	t.Helper()
	tmpl := r.podTemplate(t)
	pod := tmpl.Spec
	var nps []networkingv1.NetworkPolicy
	for _, np := range r.networkPolicies {
		if !isApprover(np.Spec.PodSelector.MatchLabels) {
			nps = append(nps, np)
		}
	}
	if len(nps) != 1 {
		t.Errorf("rendered %d NetworkPolicies for the agent pods, want 1", len(nps))
	} else {
		np := nps[0].Spec
		if !slices.Contains(np.PolicyTypes, networkingv1.PolicyTypeIngress) || !slices.Contains(np.PolicyTypes, networkingv1.PolicyTypeEgress) {
			t.Errorf("NetworkPolicy policyTypes %v, want Ingress and Egress", np.PolicyTypes)
		}
		for k, v := range np.PodSelector.MatchLabels {
			if tmpl.Labels[k] != v {
				t.Errorf("NetworkPolicy selects %s=%s, which the pods do not carry", k, v)
			}
		}
		var hookPort int32
		for _, c := range pod.InitContainers {
			for _, p := range c.Ports {
				if p.Name == "hooks" {
					hookPort = p.ContainerPort
				}
			}
		}
		for _, rule := range np.Ingress {
			for _, p := range rule.Ports {
				if p.Port == nil || (p.Port.IntVal != hookPort && len(r.serviceMonitors) == 0) {
					t.Errorf("NetworkPolicy lets in port %v; only the event hook port (%d) may be open", p.Port, hookPort)
				}
			}
			if len(rule.Ports) == 0 {
				t.Errorf("NetworkPolicy has an ingress rule for every port")
			}
		}
	}
	if pdbs := slices.DeleteFunc(slices.Clone(r.pdbs), func(p policyv1.PodDisruptionBudget) bool {
		return p.Spec.Selector != nil && isApprover(p.Spec.Selector.MatchLabels)
	}); wantPDB && len(pdbs) != 1 {
		t.Errorf("rendered %d PodDisruptionBudgets for the agent pods, want 1", len(pdbs))
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("pod mounts the service account's API token")
	}
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		t.Errorf("pod shares a host namespace")
	}
	ann := tmpl.Annotations
	if ann["checksum/bollard-config"] == "" {
		t.Errorf("pod template lacks the checksum/bollard-config annotation")
	}
	var bollard *corev1.Container
	for i, c := range pod.InitContainers {
		if c.Name == "bollard" {
			bollard = &pod.InitContainers[i]
		}
	}
	if bollard == nil {
		t.Fatalf("no bollard init container")
	}
	if bollard.RestartPolicy == nil || *bollard.RestartPolicy != corev1.ContainerRestartPolicyAlways {
		t.Errorf("bollard is not a native sidecar (restartPolicy: Always)")
	}
	for name, p := range map[string]*corev1.Probe{"startup": bollard.StartupProbe, "readiness": bollard.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("bollard has no %s probe", name)
		}
	}
	// Liveness is the gRPC health service, asked by the binary itself.
	if cmd := livenessCommand(bollard); len(cmd) != 4 || cmd[0] != "/sidecar" || cmd[1] != "health" || cmd[2] != "--addr" {
		t.Errorf("bollard's liveness probe runs %v, want /sidecar health --addr ADDR", cmd)
	}
	if p := bollard.ReadinessProbe; p != nil && p.HTTPGet != nil && p.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness probe on %s, want /readyz", p.HTTPGet.Path)
	}
	for _, c := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
		for _, p := range containerProblems(pod.SecurityContext, c) {
			t.Error(p)
		}
	}
	for _, v := range pod.Volumes {
		if v.HostPath != nil {
			t.Errorf("volume %s is a hostPath", v.Name)
		}
	}
}

// isApprover reports whether labels are the approver's pods' (or select
// them): the chart gives them a component of their own.
func isApprover(labels map[string]string) bool {
	return labels["app.kubernetes.io/component"] == "approver"
}

// hasAgent reports whether the rendering has an agent workload.
func (r rendered) hasAgent() bool {
	for _, d := range r.deployments {
		if !isApprover(d.Spec.Template.Labels) {
			return true
		}
	}
	return len(r.statefulSets) > 0
}

// podTemplate is the one agent workload's pod template.
func (r rendered) podTemplate(t *testing.T) corev1.PodTemplateSpec {
	t.Helper()
	var ts []corev1.PodTemplateSpec
	for _, d := range r.deployments {
		if !isApprover(d.Spec.Template.Labels) {
			ts = append(ts, d.Spec.Template)
		}
	}
	for _, s := range r.statefulSets {
		ts = append(ts, s.Spec.Template)
	}
	if len(ts) != 1 {
		t.Fatalf("rendered %d workloads, want 1", len(ts))
	}
	return ts[0]
}

// containerProblems lists what makes container c (in a pod with security
// context pod) less than hardened.
func containerProblems(pod *corev1.PodSecurityContext, c corev1.Container) []string {
	var problems []string
	errorf := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	sc := c.SecurityContext
	if sc == nil {
		return []string{fmt.Sprintf("container %s has no securityContext", c.Name)}
	}
	nonRoot := (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) || (sc.RunAsNonRoot == nil && pod != nil && pod.RunAsNonRoot != nil && *pod.RunAsNonRoot)
	if !nonRoot {
		errorf("container %s may run as root (runAsNonRoot is not true)", c.Name)
	}
	if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
		errorf("container %s runs as uid 0", c.Name)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		errorf("container %s has a writable root filesystem", c.Name)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		errorf("container %s allows privilege escalation", c.Name)
	}
	if sc.Privileged != nil && *sc.Privileged {
		errorf("container %s is privileged", c.Name)
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
		errorf("container %s does not drop ALL capabilities (or adds some)", c.Name)
	}
	seccomp := sc.SeccompProfile
	if seccomp == nil && pod != nil {
		seccomp = pod.SeccompProfile
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		errorf("container %s is not under seccomp RuntimeDefault", c.Name)
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Limits[res]; !ok {
			errorf("container %s has no %s limit", c.Name, res)
		}
		if _, ok := c.Resources.Requests[res]; !ok {
			errorf("container %s has no %s request", c.Name, res)
		}
	}
	return problems
}

// checkConfig loads the rendered bollard.yaml with the sidecar's own
// loader, and checks that every file it names is under one of the bollard
// container's mounts: the chart and the binary cannot drift apart.
func checkConfig(t *testing.T, r rendered) {
	t.Helper()
	var raw string
	for _, cm := range r.configMaps {
		if strings.HasSuffix(cm.Name, "-config") {
			raw = cm.Data["bollard.yaml"]
		}
	}
	if raw == "" {
		t.Fatalf("no ConfigMap with bollard.yaml")
	}
	cfg, err := config.Parse([]byte(raw))
	if err != nil {
		t.Fatalf("config.Parse rejects the rendered bollard.yaml: %v\n%s", err, raw)
	}
	pod := r.podTemplate(t).Spec
	var mounts []corev1.VolumeMount
	for _, c := range pod.InitContainers {
		if c.Name == "bollard" {
			mounts = c.VolumeMounts
		}
	}
	// The outcome of a call done at Okta while no sink takes records waits
	// on disk, not in memory: it must outlive a crash of the container.
	if cfg.Audit.SpoolFile == "" {
		t.Error("audit.spool_file is empty: the spool would be in memory")
	}
	paths := map[string]string{
		"okta.api_token_file":  cfg.Okta.APITokenFile,
		"identity.keys_file":   cfg.Identity.KeysFile,
		"policy.dir":           cfg.Policy.Dir,
		"audit.hmac_key_file":  cfg.Audit.HMACKeyFile,
		"audit.file":           cfg.Audit.File,
		"audit.spool_file":     cfg.Audit.SpoolFile,
		"hooks.secret_file":    cfg.Hooks.SecretFile,
		"server.unix_socket":   cfg.Server.UnixSocket,
		"approvals.notify":     "",
		"okta.oauth.key":       "",
		"identity.jwt.jwks":    "",
		"policy.bundle.token":  "",
		"policy.bundle.pubkey": "",
	}
	if o := cfg.Okta.OAuth; o != nil {
		paths["okta.oauth.key"] = o.PrivateKeyFile
	}
	if j := cfg.Identity.JWT; j != nil {
		paths["identity.jwt.jwks"] = j.JWKSFile
	}
	if n := cfg.Approvals.Notify; n != nil {
		paths["approvals.notify"] = n.WebhookURLFile
	}
	if b := cfg.Policy.Bundle; b != nil {
		paths["policy.bundle.token"] = b.BearerTokenFile
		if v := b.Verification; v != nil {
			paths["policy.bundle.pubkey"] = v.PublicKeyFile
		}
	}
	for key, p := range paths {
		if p == "" {
			continue
		}
		if !slices.ContainsFunc(mounts, func(m corev1.VolumeMount) bool {
			return p == m.MountPath || strings.HasPrefix(p, strings.TrimSuffix(m.MountPath, "/")+"/")
		}) {
			t.Errorf("%s is %s, which no volume of the bollard container holds", key, p)
		}
	}
	// The kubelet's probes reach the admin port on the pod IP.
	if !strings.HasPrefix(cfg.Server.AdminListen, "0.0.0.0:") {
		t.Errorf("server.admin_listen is %s: the kubelet's probes cannot reach it", cfg.Server.AdminListen)
	}
	if cfg.Server.GRPCListen != "" && !strings.HasPrefix(cfg.Server.GRPCListen, "127.") {
		t.Errorf("server.grpc_listen is %s: gRPC must stay inside the pod", cfg.Server.GRPCListen)
	}
}

// livenessCommand is the exec command of a container's liveness probe.
func livenessCommand(c *corev1.Container) []string {
	if p := c.LivenessProbe; p != nil && p.Exec != nil {
		return p.Exec.Command
	}
	return nil
}
