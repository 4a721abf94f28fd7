package loopback

import (
	"errors"
	"net"
	"net/netip"
	"net/url"
)

var (
	// ErrPlainHTTP is returned by CheckURL for plain http to a host that is
	// not a literal loopback IP.
	ErrPlainHTTP = errors.New("must use https (plain http only to a literal loopback IP, such as 127.0.0.1 or [::1])")
	// ErrNotHTTP is returned by CheckURL for a URL that is not an absolute
	// http(s) URL.
	ErrNotHTTP = errors.New("must be an absolute https URL")
)

// Host reports whether host is a literal loopback IP: 127.0.0.0/8, ::1 or
// ::ffff:127.x.y.z, without brackets or a zone. Names, "localhost"
// included, are not.
func Host(host string) bool {
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.IsLoopback()
}

// Addr reports whether a host:port address, such as a listen address, has
// a literal loopback IP as its host. An empty host (":8181") listens
// everywhere and is not loopback.
func Addr(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	return err == nil && Host(host)
}

// CheckURL accepts an absolute https URL, or an http URL whose host is a
// literal loopback IP. It is the rule for every URL a credential is sent
// to or keys and policy are fetched from. Callers add their own checks
// (credentials, path); the error never repeats the URL, which may hold a
// secret.
func CheckURL(u *url.URL) error {
	switch {
	case u == nil || u.Host == "" || u.Opaque != "":
		return ErrNotHTTP
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && Host(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return ErrPlainHTTP
	default:
		return ErrNotHTTP
	}
}
