package loopback_test

import (
	"errors"
	"net"
	"net/url"
	"testing"

	"github.com/bollard-dev/bollard/pkg/loopback"
)

var hosts = []struct {
	host string
	want bool
}{
	{"127.0.0.1", true},
	{"127.255.255.254", true},
	{"::1", true},
	{"::ffff:127.0.0.1", true}, // IPv4-mapped loopback is still loopback
	{"0:0:0:0:0:0:0:1", true},

	{"127.attacker.example", false}, // the prefix test this package replaced accepted it
	{"127.0.0.1.nip.io", false},     // a public name that resolves to 127.0.0.1 today
	{"localhost", false},            // a name: /etc/hosts or DNS decide where it goes
	{"localhost.", false},
	{"LOCALHOST", false},
	{"localhost.evil.com", false},
	{"127.1", false},      // shorthand: a name to net/netip, an IP to some resolvers
	{"0x7f.0.0.1", false}, // likewise
	{"2130706433", false},
	{"127.0.0.1.", false},
	{" 127.0.0.1", false},
	{"[::1]", false}, // brackets belong to a URL or host:port, not to a host
	{"::1%lo", false},
	{"0.0.0.0", false}, // every interface
	{"::", false},
	{"::ffff:10.0.0.1", false},
	{"10.0.0.1", false},
	{"example.com", false},
	{"", false},
}

func TestHost(t *testing.T) {
	for _, tt := range hosts {
		if got := loopback.Host(tt.host); got != tt.want {
			t.Errorf("Host(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8181":          true,
		"127.0.0.1:0":             true,
		"[::1]:8182":              true,
		"[::ffff:127.0.0.1]:8182": true,
		"localhost:8181":          false,
		"127.attacker.example:80": false,
		"0.0.0.0:8181":            false,
		":8181":                   false, // empty host listens on every interface
		"[::]:8181":               false,
		"127.0.0.1":               false, // no port
		"::1":                     false,
		"":                        false,
	} {
		if got := loopback.Addr(addr); got != want {
			t.Errorf("Addr(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	for raw, want := range map[string]error{
		"https://example.okta.com":          nil,
		"https://127.attacker.example/keys": nil, // TLS authenticates the name
		"HTTPS://example.okta.com":          nil,
		"http://127.0.0.1:8080":             nil,
		"http://[::1]:8080/keys":            nil,
		"http://[::ffff:127.0.0.1]:8080":    nil,
		"http://127.attacker.example":       loopback.ErrPlainHTTP,
		"http://127.0.0.1.nip.io/keys":      loopback.ErrPlainHTTP,
		"http://localhost:8080":             loopback.ErrPlainHTTP,
		"http://LOCALHOST./":                loopback.ErrPlainHTTP,
		"http://127.1/":                     loopback.ErrPlainHTTP,
		"http://0.0.0.0:8080":               loopback.ErrPlainHTTP,
		"http://jwks.example.com/keys":      loopback.ErrPlainHTTP,
		"http://[::1%25lo]:8080":            loopback.ErrPlainHTTP,
		"ftp://127.0.0.1/x":                 loopback.ErrNotHTTP,
		"/jwks":                             loopback.ErrNotHTTP,
		"http:127.0.0.1":                    loopback.ErrNotHTTP, // opaque: no host
		"localhost:8080":                    loopback.ErrNotHTTP, // the scheme is "localhost"
		"":                                  loopback.ErrNotHTTP,
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("url.Parse(%q): %v", raw, err)
		}
		if got := loopback.CheckURL(u); !errors.Is(got, want) {
			t.Errorf("CheckURL(%q) = %v, want %v", raw, got, want)
		}
	}
	if err := loopback.CheckURL(nil); !errors.Is(err, loopback.ErrNotHTTP) {
		t.Errorf("CheckURL(nil) = %v", err)
	}
}

// FuzzHost cross-checks Host against net.ParseIP: whatever Host accepts,
// the older parser must also read as a loopback IP.
func FuzzHost(f *testing.F) {
	for _, tt := range hosts {
		f.Add(tt.host)
	}
	f.Fuzz(func(t *testing.T, host string) {
		if !loopback.Host(host) {
			return
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			t.Errorf("Host(%q) = true, but net.ParseIP reads %v", host, ip)
		}
	})
}
