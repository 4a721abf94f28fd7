package forward

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// Connection pool settings. A call to Okta should find an open connection:
// against a real org every new one is a TCP and TLS handshake over the
// internet, tens of milliseconds, and Go's default keeps only two idle
// connections per host, so a burst of calls opened and dropped thousands.
const (
	dialTimeout         = 5 * time.Second
	tcpKeepAlive        = 30 * time.Second
	tlsHandshakeTimeout = 10 * time.Second
	// idleConnTimeout is how long an idle connection is kept: below the
	// idle timeouts of the load balancers in front of Okta, so that a
	// connection is not reused just as the far end drops it.
	idleConnTimeout = 60 * time.Second
	// tlsSessions is how many TLS sessions are remembered for resumption:
	// a new connection to the org (or its token endpoint) resumes instead
	// of a full handshake.
	tlsSessions = 64
)

// newTransport is the HTTP transport to one Okta org: room for idlePerHost
// idle connections (at least the calls that may be in flight at once),
// HTTP/2 where the server offers it (Okta does: many calls share one
// connection), TLS 1.2 or later with session resumption, and bounded dial,
// handshake and idle times. Proxy settings come from the environment, as
// with Go's default.
func newTransport(idlePerHost int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: dialTimeout, KeepAlive: tcpKeepAlive}).DialContext
	t.TLSHandshakeTimeout = tlsHandshakeTimeout
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, ClientSessionCache: tls.NewLRUClientSessionCache(tlsSessions)}
	t.ForceAttemptHTTP2 = true // a custom TLS config would otherwise turn HTTP/2 off
	t.MaxIdleConnsPerHost = max(idlePerHost, 2)
	t.MaxIdleConns = max(100, 2*t.MaxIdleConnsPerHost)
	t.IdleConnTimeout = idleConnTimeout
	return t
}
