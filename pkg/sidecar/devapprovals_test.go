package sidecar

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

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
	"github.com/bollard-dev/bollard/pkg/tooltest"
)

// TestDevModeApprovals is the approvals demo: in dev mode helpdesk-bot's
// suspension of Carol (an admin) waits; Sam, signed in at the simulator's
// identity provider with the token file the banner names, approves it
// with `sidecar approvals`; the call then runs.
func TestDevModeApprovals(t *testing.T) {
	out := &tooltest.Buffer{}
	a := startDevWith(t, DevOptions{Out: out})
	m := regexp.MustCompile(`sam\.singh@example\.com\s+token in (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("the banner names no token file for Sam:\n%s", out.String())
	}
	samToken := m[1]
	gw, agent := devHelpdesk(t, a)
	req := suspendCarol(t, gw, agent)
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
}

// devHelpdesk is helpdesk-bot's gateway client on dev mode's listener.
func devHelpdesk(t *testing.T, a Addrs) (bollardv1.GatewayServiceClient, context.Context) {
	t.Helper()
	conn, err := grpc.NewClient(a.GRPC.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return bollardv1.NewGatewayServiceClient(conn), metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+identity.DevKeys()["helpdesk-bot"])
}

// suspendCarol is the agent's suspension of Carol, who holds an admin
// role: the request, with approval_id set from its APPROVAL_PENDING answer.
func suspendCarol(t *testing.T, gw bollardv1.GatewayServiceClient, agent context.Context) *bollardv1.ExecuteRequest {
	t.Helper()
	params, _ := structpb.NewStruct(map[string]any{"userId": oktasim.SeedUserCarol})
	req := &bollardv1.ExecuteRequest{Action: "user_lifecycle.suspend", Params: params}
	_, err := gw.Execute(agent, req)
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok && ei.Reason == "APPROVAL_PENDING" {
			req.ApprovalId = ei.Metadata["approval_id"]
			return req
		}
	}
	t.Fatalf("suspending Carol: %v, want APPROVAL_PENDING", err)
	return nil
}
