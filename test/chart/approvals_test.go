package chart

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/bollard-dev/bollard/pkg/config"
)

var (
	approvalsValues = []string{"-f", filepath.Join(chartDir, "ci", "approvals-values.yaml")}
	approverValues  = []string{"-f", filepath.Join(chartDir, "ci", "approver-values.yaml")}
)

// sidecarConfig is the rendered bollard.yaml, parsed by the sidecar's loader.
func sidecarConfig(t *testing.T, r rendered) config.Config {
	t.Helper()
	for _, cm := range r.configMaps {
		if strings.HasSuffix(cm.Name, "-config") && !strings.HasSuffix(cm.Name, "-approver-config") {
			cfg, err := config.Parse([]byte(cm.Data["bollard.yaml"]))
			if err != nil {
				t.Fatalf("config.Parse rejects the rendered bollard.yaml: %v", err)
			}
			return cfg
		}
	}
	t.Fatal("no ConfigMap with bollard.yaml")
	return config.Config{}
}

// container is the named container (or init container) of pod.
func container(t *testing.T, pod corev1.PodSpec, name string) corev1.Container {
	t.Helper()
	for _, c := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %s", name)
	return corev1.Container{}
}

// mountedFrom is the volume behind path in container c of pod, or nil
// when no mount of c holds path.
func mountedFrom(pod corev1.PodSpec, c corev1.Container, path string) *corev1.Volume {
	for _, m := range c.VolumeMounts {
		if path != m.MountPath && !strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/") {
			continue
		}
		for i, v := range pod.Volumes {
			if v.Name == m.Name {
				return &pod.Volumes[i]
			}
		}
	}
	return nil
}

// envSecrets names the Secrets that any container of pod takes into its
// environment.
func envSecrets(pod corev1.PodSpec) []string {
	var names []string
	for _, c := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				names = append(names, e.ValueFrom.SecretKeyRef.Name)
			}
		}
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil {
				names = append(names, e.SecretRef.Name)
			}
		}
	}
	return names
}

// webhookSecretUses lists where the pod uses the webhook's Secret, by name.
func webhookSecretUses(pod corev1.PodSpec, secret string) []string {
	var uses []string
	for _, v := range pod.Volumes {
		if v.Secret != nil && v.Secret.SecretName == secret {
			uses = append(uses, "volume "+v.Name)
		}
	}
	for _, s := range envSecrets(pod) {
		if s == secret {
			uses = append(uses, "environment")
		}
	}
	return uses
}

// checkWebhookFile checks that the webhook URL reaches the process as a
// file from the Secret the values name, projected alone and read-only, and
// never through the environment.
func checkWebhookFile(t *testing.T, pod corev1.PodSpec, c corev1.Container, n *config.Notify, secret, key string) {
	t.Helper()
	if n == nil {
		t.Fatal("no approvals.notify in the rendered configuration")
	}
	v := mountedFrom(pod, c, n.WebhookURLFile)
	if v == nil || v.Secret == nil || v.Secret.SecretName != secret {
		t.Fatalf("approvals.notify.webhook_url_file %s is not from the Secret %s: %+v", n.WebhookURLFile, secret, v)
	}
	if len(v.Secret.Items) != 1 || v.Secret.Items[0].Key != key || v.Secret.Items[0].Path != filepath.Base(n.WebhookURLFile) {
		t.Errorf("the webhook Secret's volume projects %v, want its key %s alone at %s", v.Secret.Items, key, filepath.Base(n.WebhookURLFile))
	}
	for _, m := range c.VolumeMounts {
		if m.Name == v.Name && !m.ReadOnly {
			t.Errorf("the webhook Secret is mounted writable")
		}
	}
	if s := envSecrets(pod); slices.Contains(s, secret) {
		t.Errorf("the webhook Secret %s is in the environment", secret)
	}
}

// The sidecar serves the people's side when there is no approver: its
// bollard.yaml carries the approvers, the notifications and the console as
// the values say, and the webhook URL is a file from the Secret.
func TestApprovalsInTheSidecar(t *testing.T) {
	out, err := template(t, approvalsValues...)
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	r := decode(t, out)
	cfg := sidecarConfig(t, r)
	a := cfg.Approvals
	if a.MaxPending != 10000 || a.MaxPendingPerAgent != 10 {
		t.Errorf("approvals limits %d, %d; want 10000, 10", a.MaxPending, a.MaxPendingPerAgent)
	}
	want := config.Approvers{Issuer: "https://example.okta.com/oauth2/default", Audience: "api://bollard-approvals",
		JWKSURL: "https://example.okta.com/oauth2/default/v1/keys", EmailClaim: "email", GroupsClaim: "groups", UserIDClaim: "uid", Leeway: a.Approvers.Leeway}
	if a.Approvers == nil || *a.Approvers != want || want.Leeway.String() != "1m0s" {
		t.Errorf("approvals.approvers = %+v, want %+v", a.Approvers, want)
	}
	if c := a.Console; c == nil || !c.Enabled || c.ClientID != "0oa1consoleexample" || c.RedirectURL != "http://127.0.0.1:8182/approvals/callback" {
		t.Errorf("approvals.console = %+v", c)
	}
	if n := a.Notify; n == nil || n.Format != "slack" || n.ConsoleURL != "http://127.0.0.1:8182" || n.MaxAttempts != 6 {
		t.Errorf("approvals.notify = %+v", n)
	}
	pod := r.podTemplate(t).Spec
	checkWebhookFile(t, pod, container(t, pod, "bollard"), a.Notify, "bollard-approvals-webhook", "webhook-url")
	if uses := webhookSecretUses(pod, "bollard-approvals-webhook"); len(uses) != 1 {
		t.Errorf("the agent pod uses the webhook Secret %v, want one volume", uses)
	}
	if agent := container(t, pod, "agent"); mountedFrom(pod, agent, a.Notify.WebhookURLFile) != nil {
		t.Errorf("the agent container mounts the webhook Secret")
	}
	// The console is reached through kubectl port-forward: no Service,
	// Ingress or NetworkPolicy rule opens the admin port for it.
	if len(r.ingresses) > 0 {
		t.Errorf("the sidecar's console got an Ingress")
	}
	m := mcpRendering{r: r}
	if where := m.exposes(t, 8182); slices.ContainsFunc(where, func(w string) bool { return !strings.HasPrefix(w, "containerPort") }) {
		t.Errorf("the admin port, where the sidecar serves the console, is exposed by %v", where)
	}

	// Off by default: no approvers, notifications or console, and no
	// webhook Secret.
	out, err = template(t, minimalSet...)
	if err != nil {
		t.Fatal(err)
	}
	r = decode(t, out)
	if a := sidecarConfig(t, r).Approvals; a.Approvers != nil || a.Notify != nil || a.Console != nil {
		t.Errorf("approvals by default: %+v", a)
	}
	if strings.Contains(out, "approvals-webhook") {
		t.Errorf("a webhook Secret is mounted by default")
	}
}

// With the approver on, the people's side is the approver's alone: the
// agents' sidecars keep the limits, and neither verify people, notify, serve
// the console nor hold the webhook Secret.
func TestApproverTakesThePeoplesSide(t *testing.T) {
	out, err := template(t, append(slices.Clone(approverValues), "--set", "agent.enabled=true", "--set", "agent.image.repository=registry.example.com/agent")...)
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	r := decode(t, out)
	checkHardening(t, r, true)
	checkConfig(t, r)
	checkApprover(t, r)
	if a := sidecarConfig(t, r).Approvals; a.Approvers != nil || a.Notify != nil || a.Console != nil || a.MaxPendingPerAgent != 20 {
		t.Errorf("the sidecar's approvals with the approver on: %+v", a)
	}
	if uses := webhookSecretUses(r.podTemplate(t).Spec, "bollard-approvals-webhook"); len(uses) > 0 {
		t.Errorf("the agent pod uses the webhook Secret (%v) though the approver notifies", uses)
	}
	cfg := loadApprover(t, r)
	if cfg.Approvals.Approvers == nil || cfg.Approvals.Approvers.Issuer != "https://example.okta.com/oauth2/default" {
		t.Errorf("the approver's approvers: %+v", cfg.Approvals.Approvers)
	}
	pod := r.approverPod(t).Spec
	checkWebhookFile(t, pod, container(t, pod, "approver"), cfg.Approvals.Notify, "bollard-approvals-webhook", "webhook-url")
	// The console and its links default to the Ingress's host.
	if c := cfg.Approvals.Console; c == nil || c.RedirectURL != "https://approvals.example.com/approvals/callback" {
		t.Errorf("the approver's console: %+v", c)
	}
	if n := cfg.Approvals.Notify; n.ConsoleURL != "https://approvals.example.com" {
		t.Errorf("notifications link to %q, want the console's https://approvals.example.com", n.ConsoleURL)
	}
	if !cfg.State.Shared() || cfg.State.Redis.KeyPrefix != "bollard:fleet:" {
		t.Errorf("the approver's state: %+v", cfg.State)
	}
	if cfg.Identity.KeysFile == "" || cfg.Identity.JWT == nil {
		t.Errorf("the approver does not know the agents (keys and JWTs): %+v", cfg.Identity)
	}
}

// Values the approver's own rendering follows: an explicit redirect URL
// and console URL win over the Ingress's, a console without an Ingress,
// the console off (no admin port for it, no Ingress), and the ports.
func TestApproverVariants(t *testing.T) {
	for _, tc := range []struct {
		name  string
		set   []string
		check func(t *testing.T, r rendered, cfg config.Config)
	}{
		{"explicit URLs", []string{"approvals.console.redirectUrl=https://bollard.example.com/approvals/callback", "approver.ingress.host=bollard.example.com",
			"approvals.notify.consoleUrl=https://links.example.com"}, func(t *testing.T, _ rendered, cfg config.Config) {
			if cfg.Approvals.Console.RedirectURL != "https://bollard.example.com/approvals/callback" || cfg.Approvals.Notify.ConsoleURL != "https://links.example.com" {
				t.Errorf("console %+v, notify %+v", cfg.Approvals.Console, cfg.Approvals.Notify)
			}
		}},
		{"console without ingress", []string{"approver.ingress.enabled=false", "approvals.console.redirectUrl=https://approvals.example.com/approvals/callback"}, func(t *testing.T, r rendered, cfg config.Config) {
			if len(r.ingresses) != 0 || cfg.Approvals.Notify.ConsoleURL != "" {
				t.Errorf("%d Ingresses, notify console_url %q", len(r.ingresses), cfg.Approvals.Notify.ConsoleURL)
			}
		}},
		{"no console, two replicas", []string{"approvals.console.enabled=false", "approver.ingress.enabled=false", "approver.replicas=2"}, func(t *testing.T, r rendered, cfg config.Config) {
			if cfg.Approvals.Console != nil || len(r.ingresses) != 0 || *r.approverDeployments()[0].Spec.Replicas != 2 {
				t.Errorf("console %+v, %d Ingresses", cfg.Approvals.Console, len(r.ingresses))
			}
		}},
		// The console's sessions are in the fleet's Redis: replicas share them.
		{"console, two replicas", []string{"approver.replicas=2"}, func(t *testing.T, r rendered, cfg config.Config) {
			if cfg.Approvals.Console == nil || !cfg.Approvals.Console.Enabled || *r.approverDeployments()[0].Spec.Replicas != 2 {
				t.Errorf("console %+v with two replicas", cfg.Approvals.Console)
			}
		}},
		{"no notifications", []string{"approvals.notify.enabled=false"}, func(t *testing.T, r rendered, cfg config.Config) {
			if cfg.Approvals.Notify != nil || len(webhookSecretUses(r.approverPod(t).Spec, "bollard-approvals-webhook")) > 0 {
				t.Errorf("notify %+v without notifications", cfg.Approvals.Notify)
			}
		}},
		{"ports and metrics", []string{"approver.grpcPort=9443", "approver.adminPort=9182",
			"approver.networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.name=monitoring"}, func(t *testing.T, r rendered, cfg config.Config) {
			if cfg.Server.GRPCListen != "0.0.0.0:9443" || cfg.Server.AdminListen != "0.0.0.0:9182" {
				t.Errorf("listeners %s, %s", cfg.Server.GRPCListen, cfg.Server.AdminListen)
			}
		}},
		{"agents' JWKS from a ConfigMap", []string{"identity.jwt.jwksUrl=", "identity.jwt.jwksConfigMap.name=cluster-jwks"}, func(t *testing.T, r rendered, cfg config.Config) {
			if cfg.Identity.JWT.JWKSFile == "" {
				t.Errorf("identity.jwt: %+v", cfg.Identity.JWT)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := slices.Clone(approverValues)
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			out, err := template(t, args...)
			if err != nil {
				t.Fatalf("helm template: %v", err)
			}
			r := decode(t, out)
			checkApprover(t, r)
			tc.check(t, r, loadApprover(t, r))
		})
	}
}

// Settings that cannot work fail the install with a message that says why,
// not the sidecar or the approver at start.
func TestApprovalsRequired(t *testing.T) {
	approvers := []string{"approvals.approvers.issuer=https://example.okta.com/oauth2/default",
		"approvals.approvers.audience=api://bollard-approvals", "approvals.approvers.jwksUrl=https://example.okta.com/oauth2/default/v1/keys"}
	for _, tc := range []struct {
		name string
		base []string
		set  []string
		want string
	}{
		// The sidecar's
		{"issuer without audience", minimalSet, []string{"approvals.approvers.issuer=https://example.okta.com/oauth2/default", "approvals.approvers.jwksUrl=https://example.okta.com/oauth2/default/v1/keys"}, "approvals.approvers.audience is required"},
		{"issuer without keys", minimalSet, []string{"approvals.approvers.issuer=https://example.okta.com/oauth2/default", "approvals.approvers.audience=api://a"}, "approvals.approvers.jwksUrl is required"},
		{"the agents' issuer", minimalSet, append(slices.Clone(approvers), "identity.jwt.enabled=true", "identity.jwt.jwksUrl=https://example.okta.com/oauth2/default/v1/keys", "identity.jwt.issuer=https://example.okta.com/oauth2/default/"), "must not be identity.jwt.issuer"},
		{"per agent above the total", minimalSet, []string{"approvals.maxPending=5", "approvals.maxPendingPerAgent=6"}, "approvals.maxPendingPerAgent must be at most approvals.maxPending"},
		{"console without approvers", minimalSet, []string{"approvals.console.enabled=true", "approvals.console.clientId=0oa1", "approvals.console.redirectUrl=http://127.0.0.1:8182/approvals/callback"}, "approvals.console.enabled needs approvals.approvers.issuer"},
		{"console without client", minimalSet, append(slices.Clone(approvers), "approvals.console.enabled=true", "approvals.console.redirectUrl=http://127.0.0.1:8182/approvals/callback"), "approvals.console.clientId is required"},
		{"sidecar console without redirect", minimalSet, append(slices.Clone(approvers), "approvals.console.enabled=true", "approvals.console.clientId=0oa1"), "http://127.0.0.1:8182/approvals/callback"},
		{"notify without a Secret", minimalSet, []string{"approvals.notify.enabled=true"}, "approvals.notify.webhookUrl.existingSecret is required"},
		// The approver's
		{"approver on memory", approverValues, []string{"state.backend=memory"}, "approver.enabled needs state.backend=redis (it is memory)"},
		{"approver without approvers", approverValues, []string{"approvals.approvers.issuer=", "approvals.console.enabled=false", "approver.ingress.enabled=false"}, "approver.enabled needs approvals.approvers.issuer"},
		{"approver without TLS", approverValues, []string{"approver.tls.existingSecret="}, "approver.tls.existingSecret is required"},
		{"approver ports clash", approverValues, []string{"approver.adminPort=8443"}, "approver.grpcPort and approver.adminPort must differ"},
		{"console without redirect or ingress", approverValues, []string{"approver.ingress.enabled=false"}, "approvals.console.redirectUrl is required for the approver's console"},
		{"ingress without console", approverValues, []string{"approvals.console.enabled=false"}, "approver.ingress.enabled exposes the console"},
		{"ingress without host", approverValues, []string{"approver.ingress.host="}, "approver.ingress.host is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := slices.Clone(tc.base)
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			_, err := template(t, args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}
