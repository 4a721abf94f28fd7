// Package grpcguard holds what every gRPC server Bollard runs applies,
// whatever it serves (the gateway beside the agents, ApprovalService alone
// in approver mode): keepalive enforcement and recovery from panics, one
// rule for both.
package grpcguard

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// Keepalive enforcement: a client may ping at most once a minute, and only
// while it has RPCs open; a connection idle for an hour is closed, and a
// peer that does not answer a ping in 20s is dropped.
var (
	keepaliveEnforcement = keepalive.EnforcementPolicy{MinTime: time.Minute, PermitWithoutStream: false}
	keepaliveParams      = keepalive.ServerParameters{MaxConnectionIdle: time.Hour, Time: 2 * time.Hour, Timeout: 20 * time.Second}
)

// Keepalive are the server options that enforce it.
func Keepalive() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.KeepaliveEnforcementPolicy(keepaliveEnforcement), grpc.KeepaliveParams(keepaliveParams)}
}

// Recovery is the unary and the streaming interceptor that turn a panic in
// a handler into the status internal returns, after logging it with its
// stack on log, instead of taking the process (and every caller) down.
func Recovery(log *slog.Logger, internal func() error) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	recovered := func(ctx context.Context, method string, err *error) {
		if r := recover(); r != nil {
			log.ErrorContext(ctx, "panic in handler", "method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			*err = internal()
		}
	}
	unary := func(ctx context.Context, req any, rpc *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
		defer recovered(ctx, rpc.FullMethod, &err)
		return h(ctx, req)
	}
	stream := func(srv any, ss grpc.ServerStream, rpc *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
		defer recovered(ss.Context(), rpc.FullMethod, &err)
		return h(srv, ss)
	}
	return unary, stream
}
