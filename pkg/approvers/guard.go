package approvers

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// ServerOptions are the grpc.Server options for a server that carries
// ApprovalService alone (`sidecar approver`); beside the gateway, its
// options apply instead. A panic in any handler, unary or streaming, is
// logged with its stack and answered with INTERNAL rather than taking the
// process, and every approver's watch, down. maxStreams bounds the RPCs one
// connection holds open; keepalive is enforced as the gateway enforces it.
func (s *Server) ServerOptions(maxStreams uint32) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxConcurrentStreams(maxStreams),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Minute}),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: time.Hour, Time: 2 * time.Hour, Timeout: 20 * time.Second}),
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, rpc *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
			defer s.recovered(ctx, rpc.FullMethod, &err)
			return h(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, rpc *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
			defer s.recovered(ss.Context(), rpc.FullMethod, &err)
			return h(srv, ss)
		}),
	}
}

// recovered turns a panic into INTERNAL; called deferred.
func (s *Server) recovered(ctx context.Context, method string, err *error) {
	if r := recover(); r != nil {
		s.log.ErrorContext(ctx, "panic in handler", "method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		*err = toStatus(&failure{kind: kindInternal, err: fmt.Errorf("panic: %v", r)})
	}
}
