package chart

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/bollard-dev/bollard/pkg/config"
)

// approverDeployments are the rendered Deployments of approver pods.
func (r rendered) approverDeployments() []appsv1.Deployment {
	var ds []appsv1.Deployment
	for _, d := range r.deployments {
		if isApprover(d.Spec.Template.Labels) {
			ds = append(ds, d)
		}
	}
	return ds
}

// approverPod is the one approver Deployment's pod template.
func (r rendered) approverPod(t *testing.T) corev1.PodTemplateSpec {
	t.Helper()
	ds := r.approverDeployments()
	if len(ds) != 1 {
		t.Fatalf("rendered %d approver Deployments, want 1", len(ds))
	}
	return ds[0].Spec.Template
}

// loadApprover loads the rendered approver.yaml with the binary's own
// loader for `sidecar approver` (config.LoadApprover: Validate and
// ValidateApprover), from a file as the pod mounts it.
func loadApprover(t *testing.T, r rendered) config.Config {
	t.Helper()
	var raw string
	for _, cm := range r.configMaps {
		if strings.HasSuffix(cm.Name, "-approver-config") {
			raw = cm.Data["approver.yaml"]
		}
	}
	if raw == "" {
		t.Fatalf("no ConfigMap with approver.yaml")
	}
	path := filepath.Join(t.TempDir(), "approver.yaml")
	if err := os.WriteFile(path, []byte(raw), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadApprover(path)
	if err != nil {
		t.Fatalf("config.LoadApprover rejects the rendered approver.yaml: %v\n%s", err, raw)
	}
	return cfg
}

// checkApprover checks what the chart promises of the approver: a
// hardened pod, a configuration `sidecar approver` loads with every file it
// names mounted, gRPC with TLS from the Secret, HTTP probes, selectors that
// never cross with the agent's, a NetworkPolicy that opens only its ports,
// and an Ingress that routes only the console.
func checkApprover(t *testing.T, r rendered) {
	t.Helper()
	tmpl := r.approverPod(t)
	pod := tmpl.Spec
	d := r.approverDeployments()[0]
	if sel := d.Spec.Selector; sel == nil || !labels.SelectorFromSet(sel.MatchLabels).Matches(labels.Set(tmpl.Labels)) {
		t.Errorf("the approver Deployment's selector does not select its pods")
	}
	if tmpl.Annotations["checksum/approver-config"] == "" {
		t.Errorf("the approver's pod template lacks the checksum/approver-config annotation")
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("the approver pod mounts the service account's API token")
	}
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		t.Errorf("the approver pod shares a host namespace")
	}
	for _, v := range pod.Volumes {
		if v.HostPath != nil {
			t.Errorf("the approver's volume %s is a hostPath", v.Name)
		}
	}
	if len(pod.InitContainers) != 0 || len(pod.Containers) != 1 || pod.Containers[0].Name != "approver" {
		t.Fatalf("the approver pod has containers %v and init containers %v, want approver alone", pod.Containers, pod.InitContainers)
	}
	c := pod.Containers[0]
	for _, p := range containerProblems(pod.SecurityContext, c) {
		t.Error(p)
	}
	if want := []string{"approver", "--config", "/etc/bollard/approver.yaml"}; !slices.Equal(c.Args, want) || len(c.Command) != 0 {
		t.Errorf("the approver runs %v %v, want the image's entrypoint with %v", c.Command, c.Args, want)
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if len(ports) != 2 || ports["grpc"] == 0 || ports["admin"] == 0 {
		t.Errorf("the approver declares ports %v, want grpc and admin alone", ports)
	}
	// `sidecar health` speaks plaintext gRPC only: the probes are HTTP.
	for name, want := range map[string]struct {
		p    *corev1.Probe
		path string
	}{"startup": {c.StartupProbe, "/healthz"}, "liveness": {c.LivenessProbe, "/healthz"}, "readiness": {c.ReadinessProbe, "/readyz"}} {
		if want.p == nil || want.p.HTTPGet == nil {
			t.Errorf("the approver has no HTTP %s probe", name)
		} else if g := want.p.HTTPGet; g.Path != want.path || g.Port.String() != "admin" {
			t.Errorf("the approver's %s probe is GET %s on port %s, want GET %s on the admin port", name, g.Path, g.Port.String(), want.path)
		}
	}
	if s := envSecrets(pod); len(s) > 0 {
		t.Errorf("the approver takes Secrets %v into its environment: secrets are files", s)
	}

	cfg := loadApprover(t, r)
	if want := fmt.Sprintf("0.0.0.0:%d", ports["grpc"]); cfg.Server.GRPCListen != want {
		t.Errorf("server.grpc_listen is %s, want %s (the grpc containerPort)", cfg.Server.GRPCListen, want)
	}
	if want := fmt.Sprintf("0.0.0.0:%d", ports["admin"]); cfg.Server.AdminListen != want {
		t.Errorf("server.admin_listen is %s, want %s (the admin containerPort)", cfg.Server.AdminListen, want)
	}
	if cfg.Server.UnixSocket != "" {
		t.Errorf("the approver serves a Unix socket: %s", cfg.Server.UnixSocket)
	}
	if cfg.Server.TLS == nil {
		t.Fatal("the approver's gRPC has no TLS")
	}
	for _, f := range []string{cfg.Server.TLS.CertFile, cfg.Server.TLS.KeyFile} {
		v := mountedFrom(pod, c, f)
		if v == nil || v.Secret == nil {
			t.Errorf("server.tls file %s is not from a mounted Secret", f)
			continue
		}
		if !slices.ContainsFunc(v.Secret.Items, func(k corev1.KeyToPath) bool { return k.Key == filepath.Base(f) }) {
			t.Errorf("server.tls file %s: the Secret %s does not project key %s", f, v.Secret.SecretName, filepath.Base(f))
		}
	}
	paths := map[string]string{
		"okta.api_token_file":   cfg.Okta.APITokenFile,
		"identity.keys_file":    cfg.Identity.KeysFile,
		"audit.hmac_key_file":   cfg.Audit.HMACKeyFile,
		"audit.file":            cfg.Audit.File,
		"audit.spool_file":      cfg.Audit.SpoolFile,
		"state.redis.password":  cfg.State.Redis.PasswordFile,
		"state.redis.tls.ca":    cfg.State.Redis.TLS.CAFile,
		"state.redis.tls.cert":  cfg.State.Redis.TLS.CertFile,
		"state.redis.tls.key":   cfg.State.Redis.TLS.KeyFile,
		"approvals.notify":      "",
		"okta.oauth.key":        "",
		"identity.jwt.jwks":     "",
		"approvals.approvers.j": "",
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
	if a := cfg.Approvals.Approvers; a != nil {
		paths["approvals.approvers.j"] = a.JWKSFile
	}
	for key, p := range paths {
		if p != "" && mountedFrom(pod, c, p) == nil {
			t.Errorf("%s is %s, which no volume of the approver holds", key, p)
		}
	}

	// No selector of the agent's picks an approver pod, and none of the
	// approver's an agent pod.
	agentLabels := map[string]string{}
	if r.hasAgent() {
		agentLabels = r.podTemplate(t).Labels
	}
	selectors := map[string]map[string]string{}
	for _, d := range r.deployments {
		selectors["Deployment "+d.Name] = d.Spec.Selector.MatchLabels
	}
	for _, s := range r.services {
		selectors["Service "+s.Name] = s.Spec.Selector
	}
	for _, np := range r.networkPolicies {
		selectors["NetworkPolicy "+np.Name] = np.Spec.PodSelector.MatchLabels
	}
	for _, p := range r.pdbs {
		selectors["PodDisruptionBudget "+p.Name] = p.Spec.Selector.MatchLabels
	}
	for what, sel := range selectors {
		s := labels.SelectorFromSet(sel)
		if !isApprover(sel) && s.Matches(labels.Set(tmpl.Labels)) {
			t.Errorf("%s, the agent's, selects the approver's pods", what)
		}
		if isApprover(sel) && len(agentLabels) > 0 && s.Matches(labels.Set(agentLabels)) {
			t.Errorf("%s, the approver's, selects the agent's pods", what)
		}
	}

	console := cfg.Approvals.Console != nil && cfg.Approvals.Console.Enabled
	checkApproverNetworkPolicy(t, r, tmpl.Labels, ports, console, cfg.State.Redis.Address)
	checkApproverExposure(t, r, tmpl.Labels, ports, cfg)
}

// checkApproverNetworkPolicy checks the approver's NetworkPolicy: ingress
// only to the gRPC port and, for the console or Prometheus, the admin
// port; egress to Redis among the rest.
func checkApproverNetworkPolicy(t *testing.T, r rendered, podLabels map[string]string, ports map[string]int32, console bool, redis string) {
	t.Helper()
	var nps []networkingv1.NetworkPolicy
	for _, np := range r.networkPolicies {
		if labels.SelectorFromSet(np.Spec.PodSelector.MatchLabels).Matches(labels.Set(podLabels)) {
			nps = append(nps, np)
		}
	}
	if len(nps) != 1 {
		t.Errorf("%d NetworkPolicies select the approver's pods, want 1", len(nps))
		return
	}
	np := nps[0].Spec
	if !slices.Contains(np.PolicyTypes, networkingv1.PolicyTypeIngress) || !slices.Contains(np.PolicyTypes, networkingv1.PolicyTypeEgress) {
		t.Errorf("the approver's NetworkPolicy policyTypes %v, want Ingress and Egress", np.PolicyTypes)
	}
	var grpcOpen bool
	for _, rule := range np.Ingress {
		if len(rule.Ports) == 0 {
			t.Errorf("the approver's NetworkPolicy has an ingress rule for every port")
		}
		for _, p := range rule.Ports {
			switch {
			case p.Port == nil:
				t.Errorf("the approver's NetworkPolicy lets in every port")
			case p.Port.IntVal == ports["grpc"]:
				grpcOpen = true
			case p.Port.IntVal == ports["admin"] && (console || len(rule.From) > 0):
				// the console's peers, or Prometheus's named ones
			default:
				t.Errorf("the approver's NetworkPolicy lets in port %v", p.Port)
			}
		}
	}
	if !grpcOpen {
		t.Errorf("the approver's NetworkPolicy does not let in its gRPC port %d", ports["grpc"])
	}
	redisPort := redis[strings.LastIndex(redis, ":")+1:]
	if !slices.ContainsFunc(np.Egress, func(e networkingv1.NetworkPolicyEgressRule) bool {
		return slices.ContainsFunc(e.Ports, func(p networkingv1.NetworkPolicyPort) bool { return p.Port != nil && p.Port.String() == redisPort })
	}) {
		t.Errorf("the approver's NetworkPolicy does not let it reach Redis on port %s", redisPort)
	}
}

// checkApproverExposure checks the approver's Services and Ingress: gRPC
// for people's command line, and the admin port only behind the console's
// Ingress, which routes /approvals/ and nothing else to it, at the host of
// the console's redirect URL.
func checkApproverExposure(t *testing.T, r rendered, podLabels map[string]string, ports map[string]int32, cfg config.Config) {
	t.Helper()
	targets := map[string]string{} // Service name -> the container port it reaches
	for _, s := range r.services {
		if len(s.Spec.Selector) == 0 || !labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(podLabels)) {
			continue
		}
		for _, p := range s.Spec.Ports {
			target := p.TargetPort.String()
			if target != "grpc" && target != "admin" {
				t.Errorf("Service %s reaches the approver's port %s", s.Name, target)
			}
			targets[s.Name] = target
		}
	}
	if !slices.Contains(slices.Collect(maps.Values(targets)), "grpc") {
		t.Errorf("no Service reaches the approver's gRPC port")
	}
	var consoleIngress bool
	for _, ing := range r.ingresses {
		for _, rule := range ing.Spec.Rules {
			if rule.HTTP == nil {
				t.Errorf("Ingress %s has a rule without paths", ing.Name)
				continue
			}
			for _, p := range rule.HTTP.Paths {
				svc := p.Backend.Service
				if svc == nil || targets[svc.Name] == "" {
					continue // not the approver's
				}
				consoleIngress = true
				if p.Path != "/approvals/" || p.PathType == nil || *p.PathType != networkingv1.PathTypePrefix {
					pathType := "no pathType"
					if p.PathType != nil {
						pathType = string(*p.PathType)
					}
					t.Errorf("Ingress %s routes %s (%s) to the approver: only the prefix /approvals/ may be", ing.Name, p.Path, pathType)
				}
				if targets[svc.Name] != "admin" {
					t.Errorf("Ingress %s routes to the approver's %s port, want the console's (admin)", ing.Name, targets[svc.Name])
				}
				if c := cfg.Approvals.Console; c == nil || !c.Enabled {
					t.Errorf("Ingress %s routes to the approver, whose console is off", ing.Name)
				} else if want := "https://" + rule.Host + "/approvals/callback"; c.RedirectURL != want {
					t.Errorf("the console's redirect_url is %s, but the Ingress serves it at %s", c.RedirectURL, want)
				}
			}
		}
	}
	for name, target := range targets {
		if target == "admin" && !consoleIngress {
			t.Errorf("Service %s reaches the approver's admin port without the console's Ingress", name)
		}
	}
}
