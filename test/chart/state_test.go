package chart

import (
	"slices"
	"strings"
	"testing"
)

// A shared store the chart cannot configure fails the install, not the
// sidecar at start.
func TestSharedStateNeedsItsSettings(t *testing.T) {
	redis := append(slices.Clone(minimalSet), "--set", "state.backend=redis")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "state.redis.address is required as host:port"},
		{[]string{"--set", "state.redis.address=redis.infra"}, "state.redis.address is required as host:port"},
		{[]string{"--set", "state.redis.address=secret@redis:6379"}, "state.redis.address is required as host:port"},
		{[]string{"--set", "state.redis.address=r:6379", "--set", "state.redis.username=bollard"}, "state.redis.password.existingSecret is required"},
		{[]string{"--set", "state.redis.address=r:6379", "--set", "state.redis.tls.enabled=true", "--set", "state.redis.tls.clientCertificate=true"}, "state.redis.tls.existingSecret is required"},
		{[]string{"--set", "state.backend=etcd"}, "/state/backend"},
	} {
		_, err := template(t, append(slices.Clone(redis), tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	// The memory backend ignores the Redis settings, and a plain Redis on
	// its port renders an egress rule for that port alone.
	if _, err := template(t, append(slices.Clone(minimalSet), "--set", "state.redis.username=x")...); err != nil {
		t.Errorf("memory backend with a stray redis setting: %v", err)
	}
	out, err := template(t, append(slices.Clone(redis), "--set", "state.redis.address=redis:7000")...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"{port: 7000, protocol: TCP}", `address: "redis:7000"`, `backend: "redis"`} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered chart lacks %q", want)
		}
	}
	if strings.Contains(out, "bollard-redis-password") || strings.Contains(out, "password_file") {
		t.Error("a password is mounted though none was set")
	}
}
