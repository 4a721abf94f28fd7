package config

import (
	"strings"
	"testing"
	"time"
)

func TestPolicySectionDefaults(t *testing.T) {
	c, err := Parse([]byte(minimal + `
policy:
  bundle:
    url: https://bundles.example.com/bollard.tar.gz
    verification: {key_id: k1, public_key_file: /run/secrets/bundle.pem}
  shadow:
    dir: /etc/bollard/candidate
  dry_run_agents: [new-bot]
`))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Policy
	if p.Bundle.PollInterval != time.Minute || p.Bundle.Timeout != 30*time.Second || p.Target.Timeout != 2*time.Second || !p.Target.LookupEnabled() {
		t.Errorf("defaults not applied: %+v %+v", p.Bundle, p.Target)
	}
	if p.Shadow.Dir != "/etc/bollard/candidate" || p.DryRunAgents[0] != "new-bot" {
		t.Errorf("policy = %+v", p)
	}
}

func TestPolicySectionReportsEveryProblem(t *testing.T) {
	_, err := Parse([]byte(minimal + `
policy:
  dir: /etc/bollard/policies
  bundle:
    url: http://bundles.example.com/b.tar.gz
    file: /b.tar.gz
    poll_interval: 10ms
    verification: {}
  shadow:
    dir: /x
    bundle: {url: "https://user:pw@example.com/b"}
  dry_run_agents: [""]
  target: {timeout: 1h}
`))
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{
		"policy: set dir or bundle, not both",
		"policy.bundle: set exactly one of file and url",
		"policy.bundle.url: must use https",
		"policy.bundle.poll_interval",
		"policy.bundle.verification.key_id: required",
		"policy.bundle.verification.public_key_file: required",
		"policy.shadow: set exactly one of dir and bundle",
		"policy.shadow.bundle.url: must not carry credentials",
		"policy.dry_run_agents[0]",
		"policy.target.timeout",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "pw") {
		t.Errorf("the error repeats a credential from the URL:\n%v", err)
	}
}

func TestBundleFileTakesNoPollSettings(t *testing.T) {
	_, err := Parse([]byte(minimal + `
policy:
  bundle: {file: /b.tar.gz, poll_interval: 1m}
`))
	if err == nil || !strings.Contains(err.Error(), "apply to url only") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Parse([]byte(minimal + "policy:\n  bundle: {url: 'http://127.0.0.1:8888/b.tar.gz'}\n")); err != nil {
		t.Errorf("a loopback http bundle server is refused: %v", err)
	}
}

func TestHooksSection(t *testing.T) {
	c, err := Parse([]byte(minimal + "hooks:\n  listen: 0.0.0.0:8443\n  secret_file: /run/secrets/hook\n"))
	if err != nil {
		t.Fatal(err)
	}
	h := c.Hooks
	if !h.Enabled() || h.Path != "/okta/event-hooks" || h.AuthHeader != "Authorization" || h.MaxBodyBytes != 1<<20 || h.SubscriberBuffer != 256 {
		t.Errorf("defaults not applied: %+v", h)
	}
	if off, _ := Parse([]byte(minimal)); off.Hooks.Enabled() {
		t.Error("hooks on without listen")
	}
	_, err = Parse([]byte(minimal + `
hooks:
  listen: nowhere
  path: okta
  auth_header: "X Bad"
  tls_cert_file: /c.pem
  max_body_bytes: 10
  subscriber_buffer: -1
`))
	if err == nil {
		t.Fatal("invalid hooks accepted")
	}
	for _, want := range []string{"hooks.listen", "hooks.path", "hooks.auth_header", "hooks.secret_file: required", "hooks.tls_cert_file, tls_key_file", "hooks.max_body_bytes", "hooks.subscriber_buffer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}
