package chart

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/bollard-dev/bollard/pkg/loopback"
)

// mcpRendering is what the chart says about the MCP front: the mcp section
// of bollard.yaml, the agent's MCP URL variable, and every port a
// container, Service or NetworkPolicy opens.
type mcpRendering struct {
	config   map[string]any // bollard.yaml's mcp section; nil when absent
	agentEnv map[string]string
	r        rendered
}

func renderMCP(t *testing.T, args ...string) mcpRendering {
	t.Helper()
	out, err := template(t, args...)
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	m := mcpRendering{r: decode(t, out), agentEnv: map[string]string{}}
	checkHardening(t, m.r, true)
	for _, cm := range m.r.configMaps {
		if !strings.HasSuffix(cm.Name, "-config") {
			continue
		}
		var cfg map[string]any
		if err := yaml.Unmarshal([]byte(cm.Data["bollard.yaml"]), &cfg); err != nil {
			t.Fatalf("bollard.yaml: %v", err)
		}
		m.config, _ = cfg["mcp"].(map[string]any)
	}
	for _, c := range m.r.podTemplate(t).Spec.Containers {
		for _, e := range c.Env {
			m.agentEnv[e.Name] = e.Value
		}
	}
	return m
}

// exposes lists where port is reachable from outside the containers: a
// declared containerPort, a Service port or targetPort, a NetworkPolicy
// ingress port.
func (m mcpRendering) exposes(t *testing.T, port int32) []string {
	t.Helper()
	var where []string
	pod := m.r.podTemplate(t).Spec
	for _, c := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
		for _, p := range c.Ports {
			if p.ContainerPort == port || p.Name == "mcp" {
				where = append(where, "containerPort of "+c.Name)
			}
		}
	}
	for _, s := range m.r.services {
		for _, p := range s.Spec.Ports {
			if p.Port == port || p.TargetPort.IntVal == port || p.TargetPort.StrVal == "mcp" {
				where = append(where, "Service "+s.Name)
			}
		}
	}
	for _, np := range m.r.networkPolicies {
		for _, rule := range np.Spec.Ingress {
			for _, p := range rule.Ports {
				if p.Port != nil && p.Port.IntVal == port {
					where = append(where, "NetworkPolicy "+np.Name)
				}
			}
		}
	}
	return where
}

// Off by default: no mcp section (the sidecar's default, off), no URL for
// the agent, port 8183 open nowhere.
func TestMCPOffByDefault(t *testing.T) {
	m := renderMCP(t, minimalSet...)
	if m.config != nil {
		t.Errorf("bollard.yaml has an mcp section by default: %v", m.config)
	}
	if v, ok := m.agentEnv["BOLLARD_MCP_URL"]; ok {
		t.Errorf("the agent gets BOLLARD_MCP_URL=%s with MCP off", v)
	}
	if where := m.exposes(t, 8183); len(where) > 0 {
		t.Errorf("port 8183 is open in %v", where)
	}
}

// On: the sidecar serves MCP on loopback, which the agent container
// reaches because it shares the pod's network namespace, and nothing
// exposes it beyond the pod, not even beside a Service (the event hooks').
func TestMCPOn(t *testing.T) {
	hooks := []string{"-f", filepath.Join(chartDir, "ci", "event-hooks-ingress-values.yaml")}
	for _, tc := range []struct {
		name    string
		args    []string
		port    int32
		listen  string
		url     string
		urlEnv  string
		service bool
	}{
		{"defaults", append(slices.Clone(minimalSet), "--set", "mcp.enabled=true"), 8183, "127.0.0.1:8183", "http://127.0.0.1:8183/mcp", "BOLLARD_MCP_URL", false},
		{"port and variable", append(slices.Clone(minimalSet), "--set", "mcp.enabled=true", "--set", "mcp.port=9183", "--set", "mcp.urlEnv=MCP_URL"), 9183, "127.0.0.1:9183", "http://127.0.0.1:9183/mcp", "MCP_URL", false},
		{"beside the hooks Service", append(hooks, "--set", "mcp.enabled=true"), 8183, "127.0.0.1:8183", "http://127.0.0.1:8183/mcp", "BOLLARD_MCP_URL", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := renderMCP(t, tc.args...)
			if m.config["enabled"] != true || m.config["listen"] != tc.listen {
				t.Errorf("bollard.yaml mcp = %v, want enabled on %s", m.config, tc.listen)
			}
			if listen, _ := m.config["listen"].(string); !loopback.Addr(listen) {
				t.Errorf("mcp.listen %q is not loopback", listen)
			}
			if _, ok := m.config["allow_remote"]; ok {
				t.Errorf("the chart sets mcp.allow_remote: %v", m.config)
			}
			if got := m.agentEnv[tc.urlEnv]; got != tc.url {
				t.Errorf("agent %s = %q, want %q", tc.urlEnv, got, tc.url)
			}
			if tc.service && len(m.r.services) == 0 {
				t.Fatalf("no Service rendered to check against")
			}
			if where := m.exposes(t, tc.port); len(where) > 0 {
				t.Errorf("the MCP port %d is exposed by %v", tc.port, where)
			}
		})
	}
}

// A port that another listener of the sidecar holds fails the install
// instead of the sidecar at start.
func TestMCPPortTaken(t *testing.T) {
	for _, args := range [][]string{
		{"--set", "mcp.port=8182"}, // admin
		{"--set", "mcp.port=8181"}, // grpcListen
		{"--set", "hooks.enabled=true", "--set", "hooks.secret.existingSecret=s", "--set", "mcp.port=8443"},
	} {
		_, err := template(t, append(append(slices.Clone(minimalSet), "--set", "mcp.enabled=true"), args...)...)
		if err == nil || !strings.Contains(err.Error(), "mcp.port is taken") {
			t.Errorf("%v: %v, want mcp.port is taken", args, err)
		}
	}
	if _, err := template(t, append(slices.Clone(minimalSet), "--set", "mcp.port=8182")...); err != nil {
		t.Errorf("a clashing port with MCP off: %v", err)
	}
}
