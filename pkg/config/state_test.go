package config

import (
	"strings"
	"testing"
	"time"
)

func TestStateDefaultsToMemory(t *testing.T) {
	c, err := Parse([]byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	s := c.State
	if s.Backend != StateMemory || s.Shared() || s.WhenUnavailable != UnavailableDenyShared {
		t.Errorf("state defaults: %+v", s)
	}
	r := s.Redis
	if r.KeyPrefix != "bollard:" || r.DialTimeout != 2*time.Second || r.ReadTimeout != 500*time.Millisecond || r.WriteTimeout != 500*time.Millisecond || r.PoolSize != 16 {
		t.Errorf("redis defaults: %+v", r)
	}
}

func TestStateValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		section string
		want    []string // every one reported at once; none: valid
	}{
		"memory":                 {section: "backend: memory"},
		"memory ignores redis":   {section: "redis: {address: nonsense}"},
		"redis":                  {section: "backend: redis\n  redis: {address: 'redis.infra:6379'}"},
		"redis on a unix socket": {section: "backend: redis\n  redis: {address: 'unix:///run/redis.sock', db: 3}"},
		"redis with acl and tls": {section: "backend: redis\n  redis:\n    address: r:6380\n    username: bollard\n    password_file: /s/p\n    tls: {enabled: true, ca_file: /s/ca.pem, cert_file: /s/c.pem, key_file: /s/k.pem}"},
		"unknown backend":        {section: "backend: etcd", want: []string{`state.backend: "etcd" is not memory or redis`}},
		"unknown rule":           {section: "when_unavailable: allow", want: []string{`state.when_unavailable: "allow"`}},
		"every problem": {
			section: "backend: redis\n  redis:\n    address: redis.infra\n    db: -1\n    key_prefix: 'a b*'\n    read_timeout: 1ms\n    pool_size: 5000\n    username: u\n    tls: {cert_file: /c.pem, ca_file: /ca.pem}",
			want: []string{"state.redis.address: \"redis.infra\" is not host:port", "state.redis.db:", "state.redis.key_prefix:", "state.redis.read_timeout:",
				"state.redis.pool_size:", "state.redis.password_file: required with redis.username", "both cert_file and key_file", "tls.enabled is false"},
		},
		"no address":                 {section: "backend: redis", want: []string{"state.redis.address: required"}},
		"credentials in the address": {section: "backend: redis\n  redis: {address: 'hunter2@redis:6379'}", want: []string{"state.redis.address: host:port only"}},
		"a url for an address":       {section: "backend: redis\n  redis: {address: 'redis://redis:6379'}", want: []string{"state.redis.address: host:port only"}},
		"relative unix socket":       {section: "backend: redis\n  redis: {address: 'unix://redis.sock'}", want: []string{"absolute path"}},
		"tls over a socket":          {section: "backend: redis\n  redis: {address: 'unix:///r.sock', tls: {enabled: true}}", want: []string{"state.redis.tls: not over a unix socket"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(minimal + "state:\n  " + tc.section + "\n"))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("valid section refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("invalid section accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error repeats a password given in the address: %v", err)
			}
		})
	}
}
