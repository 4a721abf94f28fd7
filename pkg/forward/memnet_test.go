package forward

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
)

// memNet serves a handler over net.Pipe connections. Inside a
// testing/synctest bubble a real socket is never "durably blocked", so the
// bubble's clock would not move while a request waits on one; pipes are
// channels, and the clock moves.
type memNet struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// serveMem serves h on an in-memory network and returns an HTTP client that
// dials it, whatever the URL's host. Everything is closed when the test
// ends.
func serveMem(t *testing.T, h http.Handler) *http.Client {
	t.Helper()
	n := &memNet{conns: make(chan net.Conn), done: make(chan struct{})}
	srv := &http.Server{Handler: h}
	go srv.Serve(n)
	tr := &http.Transport{DialContext: n.dial}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
	})
	return &http.Client{Transport: tr}
}

// newMemClient is newClient on the in-memory network: a client of h for
// tests in a synctest bubble, where Okta's rate-limit windows and the
// client's back-offs pass on the bubble's clock.
func newMemClient(t *testing.T, h http.HandlerFunc, opts ...Option) *Client {
	t.Helper()
	c, err := New("http://127.0.0.1:1", append([]Option{WithAPIToken(token), WithHTTPClient(serveMem(t, h))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (n *memNet) Accept() (net.Conn, error) {
	select {
	case c := <-n.conns:
		return c, nil
	case <-n.done:
		return nil, net.ErrClosed
	}
}

func (n *memNet) Close() error {
	n.once.Do(func() { close(n.done) })
	return nil
}

func (n *memNet) Addr() net.Addr { return memAddr{} }

func (n *memNet) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case n.conns <- server:
		return client, nil
	case <-n.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type memAddr struct{}

func (memAddr) Network() string { return "mem" }
func (memAddr) String() string  { return "mem" }
