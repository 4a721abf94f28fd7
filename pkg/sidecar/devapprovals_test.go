package sidecar

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/approvalcli"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// TestDevModeApprovals is the approvals demo: in dev mode helpdesk-bot's
// suspension of Carol (an admin) waits; Sam, signed in at the simulator's
// identity provider with the token file the banner names, approves it
// with `sidecar approvals`; the call then runs.
func TestDevModeApprovals(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ready := make(chan Addrs, 1)
	done := make(chan error, 1)
	out := &syncBuffer{}
	go func() {
		done <- Dev(ctx, DevOptions{Listen: "127.0.0.1:0", AdminListen: "127.0.0.1:0", Logger: quiet, Out: out, Ready: func(a Addrs) { ready <- a }})
	}()
	var a Addrs
	select {
	case a = <-ready:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("dev did not start")
	}
	m := regexp.MustCompile(`sam\.singh@example\.com\s+token in (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("the banner names no token file for Sam:\n%s", out.String())
	}
	samToken := m[1]
	conn, err := grpc.NewClient(a.GRPC.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	gw := bollardv1.NewGatewayServiceClient(conn)
	agent := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+identity.DevKeys()["helpdesk-bot"])
	p, _ := structpb.NewStruct(map[string]any{"userId": oktasim.SeedUserCarol})
	req := &bollardv1.ExecuteRequest{Action: "user_lifecycle.suspend", Params: p}
	_, err = gw.Execute(agent, req)
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok && ei.Reason == "APPROVAL_PENDING" {
			req.ApprovalId = ei.Metadata["approval_id"]
		}
	}
	if req.ApprovalId == "" {
		t.Fatalf("suspending Carol in dev: %v, want APPROVAL_PENDING", err)
	}
	var cliOut bytes.Buffer
	if err := approvalcli.Run(t.Context(), []string{"approve", req.ApprovalId, "--addr", a.GRPC.String(), "--token-file", samToken}, nil, &cliOut, &cliOut); err != nil {
		t.Fatalf("sidecar approvals approve: %v\n%s", err, cliOut.String())
	}
	if !strings.Contains(cliOut.String(), "now approved") {
		t.Errorf("approve printed %q", cliOut.String())
	}
	if _, err := gw.Execute(agent, req); err != nil {
		t.Fatalf("the approved call: %v", err)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("dev did not stop")
	}
}
