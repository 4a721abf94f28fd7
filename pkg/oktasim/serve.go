package oktasim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/bollard-dev/bollard/pkg/loopback"
)

// shutdownGrace bounds how long Serve waits for requests in flight when its
// context ends.
const shutdownGrace = 5 * time.Second

// Serve listens on addr and serves the simulator until ctx ends, for
// Bollard's dev mode. It returns once the listener is bound, with the
// address actually used (addr may have port 0).
//
// Only loopback addresses are accepted: the simulator takes a well-known
// token and holds sample personal data, so it must not be reachable from
// other machines. The host must be a literal loopback IP (package
// loopback), not a name. An empty addr means 127.0.0.1:0.
func (s *Sim) Serve(ctx context.Context, addr string) (net.Addr, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if !loopback.Addr(addr) {
		return nil, fmt.Errorf("oktasim: listen address %q is not a loopback IP and port", addr)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("oktasim: listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			_ = srv.Close()
		}
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("okta simulator stopped", "error", err)
		}
	}()
	s.mu.Lock()
	if s.orgURL == "" {
		s.orgURL = "http://" + ln.Addr().String()
	}
	s.mu.Unlock()
	s.logger.Info("okta simulator listening", "addr", ln.Addr().String())
	return ln.Addr(), nil
}
