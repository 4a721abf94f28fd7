package sidecar

import (
	"context"
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
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/state/redistest"
)

// approvalRig is what a sidecar configured for human approval needs: the
// approvers' identity provider (its key, served as a JWKS file), an agent
// key for helpdesk-bot, and the Okta simulator.
type approvalRig struct {
	dir    string
	key    *ecdsa.PrivateKey
	sim    *oktasim.Sim
	okta   string
	signer jose.Signer
}

const (
	approvalsAgentKey = "bk_approvals_test_helpdesk"
	approvalsIssuer   = "https://idp.example.com/oauth2/default"
)

func newApprovalRig(t *testing.T) *approvalRig {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r := &approvalRig{dir: t.TempDir(), key: key, sim: oktasim.New(oktasim.WithAPIToken("t"))}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "p1", Algorithm: "ES256", Use: "sig"}}})
	paths := map[string][]byte{
		"jwks.json":  jwks,
		"okta-token": []byte("t"),
		"keys.yaml":  fmt.Appendf(nil, "agents:\n  - id: helpdesk-bot\n    key_sha256: %s\n", identity.HashKey(approvalsAgentKey)),
	}
	for name, body := range paths {
		if err := os.WriteFile(filepath.Join(r.dir, name), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	okta := httptest.NewServer(r.sim.Handler())
	t.Cleanup(okta.Close)
	r.okta = okta.URL
	if r.signer, err = jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "p1"}}, (&jose.SignerOptions{}).WithType("JWT")); err != nil {
		t.Fatal(err)
	}
	return r
}

// sidecar starts one, with extra configuration (a state section), and
// returns its two services on its one listener.
func (r *approvalRig) sidecar(t *testing.T, extra string) (bollardv1.GatewayServiceClient, bollardv1.ApprovalServiceClient) {
	t.Helper()
	cfg, err := config.Parse(fmt.Appendf(nil, `
server: {grpc_listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0"}
okta: {org_url: %q, api_token_file: %q}
identity: {keys_file: %q}
approvals:
  approvers: {issuer: %q, audience: api://bollard-approvals, jwks_file: %q}
%s`, r.okta, filepath.Join(r.dir, "okta-token"), filepath.Join(r.dir, "keys.yaml"), approvalsIssuer, filepath.Join(r.dir, "jwks.json"), extra))
	if err != nil {
		t.Fatal(err)
	}
	addrs := start(t, cfg)
	conn, err := grpc.NewClient(addrs.GRPC.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return bollardv1.NewGatewayServiceClient(conn), bollardv1.NewApprovalServiceClient(conn)
}

// person is a context carrying a person's token from the approvers'
// identity provider.
func (r *approvalRig) person(t *testing.T, sub, email string, groups ...string) context.Context {
	t.Helper()
	tok, err := jwt.Signed(r.signer).Claims(map[string]any{"iss": approvalsIssuer, "aud": "api://bollard-approvals", "sub": sub, "email": email,
		"groups": groups, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return metadata.NewOutgoingContext(t.Context(), metadata.Pairs("authorization", "Bearer "+tok))
}

// agent is a context carrying helpdesk-bot's key.
func (r *approvalRig) agent(t *testing.T) context.Context {
	return metadata.NewOutgoingContext(t.Context(), metadata.Pairs("authorization", "Bearer "+approvalsAgentKey))
}

// suspendCarol is the call the shipped policy holds for a person's
// approval (Carol holds an admin role); it returns the approval's id.
func (r *approvalRig) suspendCarol(t *testing.T, gw bollardv1.GatewayServiceClient) (*bollardv1.ExecuteRequest, string) {
	t.Helper()
	req := suspendCarol(t, gw, r.agent(t))
	id := req.ApprovalId
	req.ApprovalId = ""
	return req, id
}

// suspensions counts the calls that reached Okta.
func (r *approvalRig) suspensions() int {
	posts := 0
	for _, q := range r.sim.Requests() {
		if q.Method == "POST" {
			posts++
		}
	}
	return posts
}

// TestApprovalEndToEnd runs the sidecar as configured for human approval
// with the shipped policy: helpdesk-bot's suspension of Carol (who holds
// an admin role) waits; a security engineer, signed in with the approvers'
// identity provider, approves it over ApprovalService on the same
// listener; the agent's WaitApproval ends approved and the same call runs
// once at the simulator. The agent's key is no approver's credential.
func TestApprovalEndToEnd(t *testing.T) {
	r := newApprovalRig(t)
	gw, people := r.sidecar(t, "")
	agent := r.agent(t)
	req, id := r.suspendCarol(t, gw)
	wait, err := gw.WaitApproval(agent, &bollardv1.WaitApprovalRequest{ApprovalId: id})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := wait.Recv(); err != nil || m.GetState() != bollardv1.ApprovalState_APPROVAL_STATE_PENDING {
		t.Fatalf("first WaitApproval message %v, %v", m, err)
	}
	// The agent's own key is not a person's credential; nor is someone
	// outside security-approvers an approver.
	if _, err := people.Approve(agent, &bollardv1.ApproveRequest{ApprovalId: id}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("approval with the agent's key: %v, want PERMISSION_DENIED", err)
	}
	outsider := r.person(t, "00uOUT", "out@example.com", "helpdesk")
	if _, err := people.Approve(outsider, &bollardv1.ApproveRequest{ApprovalId: id}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("approval by someone outside the group: %v, want PERMISSION_DENIED", err)
	}
	engineer := r.person(t, "00uSEC", "sec@example.com", "security-approvers")
	list, err := people.ListApprovals(engineer, &bollardv1.ListApprovalsRequest{})
	if err != nil || len(list.GetApprovals()) != 1 || list.GetApprovals()[0].GetAgentId() != "helpdesk-bot" {
		t.Fatalf("the engineer's pending list: %v, %v", list, err)
	}
	// The engineer sees what the call would change, as Okta has it now:
	// Carol, read with Bollard's own credential as a lookup.
	got, err := people.GetApproval(engineer, &bollardv1.GetApprovalRequest{ApprovalId: id})
	if err != nil {
		t.Fatal(err)
	}
	user := got.GetApproval().GetTarget().GetFields()["user"].GetStructValue().GetFields()
	if user["id"].GetStringValue() != oktasim.SeedUserCarol || user["status"].GetStringValue() != "ACTIVE" {
		t.Errorf("the target shown to the approver: %v, want Carol as she is", got.GetApproval().GetTarget())
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
	if n := r.suspensions(); n != 1 {
		t.Errorf("%d suspensions reached Okta, want 1", n)
	}
}

// TestApprovalAcrossSidecars: two sidecars with state.backend redis share
// their approvals. The agent asks through A and waits there; the engineer
// lists and approves through B's ApprovalService; A's wait ends approved;
// the call runs once, through B, and a replay through A is refused.
func TestApprovalAcrossSidecars(t *testing.T) {
	srv := redistest.Start(t)
	r := newApprovalRig(t)
	shared := fmt.Sprintf("state:\n  backend: redis\n  redis: {address: %q, key_prefix: %q}\n", srv.Addr(), srv.Config().KeyPrefix)
	gwA, _ := r.sidecar(t, shared)
	gwB, peopleB := r.sidecar(t, shared)
	agent := r.agent(t)
	req, id := r.suspendCarol(t, gwA)
	wait, err := gwA.WaitApproval(agent, &bollardv1.WaitApprovalRequest{ApprovalId: id})
	if err != nil {
		t.Fatal(err)
	}
	if m, err := wait.Recv(); err != nil || m.GetState() != bollardv1.ApprovalState_APPROVAL_STATE_PENDING {
		t.Fatalf("first WaitApproval message through A: %v, %v", m, err)
	}
	engineer := r.person(t, "00uSEC", "sec@example.com", "security-approvers")
	list, err := peopleB.ListApprovals(engineer, &bollardv1.ListApprovalsRequest{})
	if err != nil || len(list.GetApprovals()) != 1 || list.GetApprovals()[0].GetId() != id {
		t.Fatalf("the engineer's pending list through B: %v, %v", list, err)
	}
	if _, err := peopleB.Approve(engineer, &bollardv1.ApproveRequest{ApprovalId: id}); err != nil {
		t.Fatal(err)
	}
	if m, err := wait.Recv(); err != nil || m.GetState() != bollardv1.ApprovalState_APPROVAL_STATE_APPROVED {
		t.Fatalf("WaitApproval through A after the approval through B: %v, %v", m, err)
	}
	req.ApprovalId = id
	if _, err := gwB.Execute(agent, req); err != nil {
		t.Fatalf("the approved call through B: %v", err)
	}
	if _, err := gwA.Execute(agent, req); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("a replay through A: %v, want FAILED_PRECONDITION APPROVAL_INVALID", err)
	}
	if n := r.suspensions(); n != 1 {
		t.Errorf("%d suspensions reached Okta, want 1", n)
	}
	keys, err := srv.Client().Keys(t.Context(), srv.Config().KeyPrefix+"{approval}:a:*").Result()
	if err != nil || len(keys) != 1 {
		t.Errorf("approvals in the store: %v, %v; want the one", keys, err)
	}
}
