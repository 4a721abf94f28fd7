package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"slices"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/grpcguard"
)

// DefaultMaxConcurrentStreams bounds the RPCs one connection may hold open:
// far above what the agents of one pod need, far below what would let one
// connection starve the others.
const DefaultMaxConcurrentStreams = 256

// ServerOptions are the grpc.Server options the gateway is tuned for.
//
// Stream workers: OPA's evaluator recurses deeply, and the fresh goroutine
// gRPC starts per RPC by default begins with a small stack that has to be
// grown by copying on every call: about a third of the CPU of a Check. A pool
// of long-lived workers keeps their grown stacks from call to call; it is
// sized for 32 concurrent callers per core, and gRPC still starts a goroutine
// for any RPC beyond that (docs/performance.md).
//
// Recovery: a panic in any handler, unary or streaming, is logged with its
// stack and answered with a bare INTERNAL, instead of taking the sidecar
// (and every agent) down. Limits: concurrent streams per connection and
// keepalive enforcement. Accounting: a request that cannot be decoded, or
// names no method of ours, leaves an audit record like any other call.
func (s *Server) ServerOptions() []grpc.ServerOption {
	recoverUnary, recoverStream := grpcguard.Recovery(s.log, func() error {
		return withDetails(codes.Internal, "internal error", info(ReasonInternal, nil))
	})
	return append(grpcguard.Keepalive(),
		grpc.NumStreamWorkers(uint32(32*runtime.GOMAXPROCS(0))),
		grpc.MaxConcurrentStreams(s.maxStreams),
		grpc.ChainUnaryInterceptor(recoverUnary),
		grpc.ChainStreamInterceptor(recoverStream, s.recordUndecodedStream),
		grpc.UnknownServiceHandler(s.unknownMethod),
	)
}

// recordUndecodedStream records a streaming request that cannot be decoded.
func (s *Server) recordUndecodedStream(srv any, ss grpc.ServerStream, rpc *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, &decodeWatch{ServerStream: ss, s: s, method: rpc.FullMethod})
}

type decodeWatch struct {
	grpc.ServerStream
	s      *Server
	method string
}

func (d *decodeWatch) RecvMsg(m any) error {
	err := d.ServerStream.RecvMsg(m)
	if err != nil && !errors.Is(err, io.EOF) && d.Context().Err() == nil {
		d.s.recordRejected(d.Context(), d.method, err)
	}
	return err
}

// withDecodeRecords wraps every unary method of desc so that a request that
// cannot be decoded (malformed, or over the size limit) leaves a record:
// gRPC decodes before any interceptor runs.
func (s *Server) withDecodeRecords(desc grpc.ServiceDesc) grpc.ServiceDesc {
	desc.Methods = slices.Clone(desc.Methods)
	for i, m := range desc.Methods {
		method, handler := "/"+desc.ServiceName+"/"+m.MethodName, m.Handler
		desc.Methods[i].Handler = func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
			return handler(srv, ctx, func(v any) error {
				err := dec(v)
				if err != nil {
					s.recordRejected(ctx, method, err)
				}
				return err
			}, icpt)
		}
	}
	return desc
}

// unknownMethod answers, and records, an RPC that names no method here.
func (s *Server) unknownMethod(_ any, ss grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(ss)
	st := status.Error(codes.Unimplemented, "unknown service or method")
	s.recordRejected(ss.Context(), method, st)
	return st
}

// recordRejected writes the record of a request refused before the
// pipeline. The caller is named when its credential is good; the status
// code says why, never the request.
func (s *Server) recordRejected(ctx context.Context, method string, err error) {
	if s.audit == nil {
		return
	}
	id, _ := s.authenticate(ctx)
	ctx = context.WithoutCancel(ctx)
	r := &audit.Record{AgentID: id.ID, AuthMethod: id.Method, Action: truncate(method, maxActionNameLen), Result: "rejected",
		Detail: map[string]any{"rpc": truncate(method, maxActionNameLen), "code": status.Code(err).String()}}
	if werr := s.audit.Write(ctx, r); werr != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "audit record not written", slog.String("rpc", method), slog.String("error", werr.Error()))
	}
}

// gatewayDesc is the generic service, with decode failures recorded.
func (s *Server) gatewayDesc() grpc.ServiceDesc {
	return s.withDecodeRecords(bollardv1.GatewayService_ServiceDesc)
}
