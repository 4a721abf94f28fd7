package sidecar

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// TestApprovalEndToEnd runs the sidecar as configured for human approval
// with the shipped policy: helpdesk-bot's suspension of Carol (who holds
// an admin role) waits; a security engineer, signed in with the approvers'
// identity provider, approves it over ApprovalService on the same
// listener; the agent's WaitApproval ends approved and the same call runs
// once at the simulator. The agent's key is no approver's credential.
func TestApprovalEndToEnd(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "p1", Algorithm: "ES256", Use: "sig"}}})
	const agentKey = "bk_approvals_test_helpdesk"
	paths := map[string][]byte{
		"jwks.json":  jwks,
		"okta-token": []byte("t"),
		"keys.yaml":  fmt.Appendf(nil, "agents:\n  - id: helpdesk-bot\n    key_sha256: %s\n", identity.HashKey(agentKey)),
	}
	for name, body := range paths {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sim := oktasim.New(oktasim.WithAPIToken("t"))
	okta := httptest.NewServer(sim.Handler())
	defer okta.Close()
	const issuer = "https://idp.example.com/oauth2/default"
	cfg, err := config.Parse(fmt.Appendf(nil, `
server: {grpc_listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0"}
okta: {org_url: %q, api_token_file: %q}
identity: {keys_file: %q}
approvals:
  approvers: {issuer: %q, audience: api://bollard-approvals, jwks_file: %q}
`, okta.URL, filepath.Join(dir, "okta-token"), filepath.Join(dir, "keys.yaml"), issuer, filepath.Join(dir, "jwks.json")))
	if err != nil {
		t.Fatal(err)
	}
	addrs := start(t, cfg)
	conn, err := grpc.NewClient(addrs.GRPC.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	gw, people := bollardv1.NewGatewayServiceClient(conn), bollardv1.NewApprovalServiceClient(conn)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "p1"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	person := func(sub, email string, groups ...string) string {
		tok, err := jwt.Signed(signer).Claims(map[string]any{"iss": issuer, "aud": "api://bollard-approvals", "sub": sub, "email": email,
			"groups": groups, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	as := func(cred string) metadata.MD { return metadata.Pairs("authorization", "Bearer "+cred) }
	agent := metadata.NewOutgoingContext(t.Context(), as(agentKey))
	params, _ := structpb.NewStruct(map[string]any{"userId": oktasim.SeedUserCarol})
	req := &bollardv1.ExecuteRequest{Action: "user_lifecycle.suspend", Params: params}
	_, err = gw.Execute(agent, req)
	id := ""
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok && ei.Reason == "APPROVAL_PENDING" {
			id = ei.Metadata["approval_id"]
		}
	}
	if id == "" {
		t.Fatalf("suspending Carol: %v, want APPROVAL_PENDING", err)
	}
	wait, err := gw.WaitApproval(agent, &bollardv1.WaitApprovalRequest{ApprovalId: id})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := wait.Recv(); err != nil || m.GetState() != bollardv1.ApprovalState_APPROVAL_STATE_PENDING {
		t.Fatalf("first WaitApproval message %v, %v", m, err)
	}
	// The agent's own key is not a person's credential; nor is someone
	// outside security-approvers an approver.
	if _, err := people.Approve(metadata.NewOutgoingContext(t.Context(), as(agentKey)), &bollardv1.ApproveRequest{ApprovalId: id}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("approval with the agent's key: %v, want PERMISSION_DENIED", err)
	}
	outsider := metadata.NewOutgoingContext(t.Context(), as(person("00uOUT", "out@example.com", "helpdesk")))
	if _, err := people.Approve(outsider, &bollardv1.ApproveRequest{ApprovalId: id}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("approval by someone outside the group: %v, want PERMISSION_DENIED", err)
	}
	engineer := metadata.NewOutgoingContext(t.Context(), as(person("00uSEC", "sec@example.com", "security-approvers")))
	list, err := people.ListApprovals(engineer, &bollardv1.ListApprovalsRequest{})
	if err != nil || len(list.GetApprovals()) != 1 || list.GetApprovals()[0].GetAgentId() != "helpdesk-bot" {
		t.Fatalf("the engineer's pending list: %v, %v", list, err)
	}
	if _, err := people.Approve(engineer, &bollardv1.ApproveRequest{ApprovalId: id, Comment: "ticket SEC-42"}); err != nil {
		t.Fatal(err)
	}
	if m, err := wait.Recv(); err != nil || m.GetState() != bollardv1.ApprovalState_APPROVAL_STATE_APPROVED {
		t.Fatalf("WaitApproval after the approval: %v, %v", m, err)
	}
	req.ApprovalId = id
	if _, err := gw.Execute(agent, req); err != nil {
		t.Fatalf("the approved call: %v", err)
	}
	posts := 0
	for _, r := range sim.Requests() {
		if r.Method == "POST" {
			posts++
		}
	}
	if posts != 1 {
		t.Errorf("%d suspensions reached Okta, want 1", posts)
	}
}
