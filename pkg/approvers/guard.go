package approvers

import (
	"errors"

	"google.golang.org/grpc"

	"github.com/bollard-dev/bollard/pkg/grpcguard"
)

// ServerOptions are the grpc.Server options for a server that carries
// ApprovalService alone (`sidecar approver`); beside the gateway, its
// options apply instead. A panic in any handler, unary or streaming, is
// logged with its stack and answered with INTERNAL rather than taking the
// process, and every approver's watch, down. maxStreams bounds the RPCs one
// connection holds open; keepalive is enforced as the gateway enforces it.
func (s *Server) ServerOptions(maxStreams uint32) []grpc.ServerOption {
	unary, stream := grpcguard.Recovery(s.log, func() error {
		return toStatus(&failure{kind: kindInternal, err: errors.New("panic in a handler")})
	})
	return append(grpcguard.Keepalive(), grpc.MaxConcurrentStreams(maxStreams),
		grpc.ChainUnaryInterceptor(unary), grpc.ChainStreamInterceptor(stream))
}
