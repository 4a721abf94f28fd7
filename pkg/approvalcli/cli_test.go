package approvalcli_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"google.golang.org/grpc"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/approvalcli"
	"github.com/bollard-dev/bollard/pkg/approvers"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/identity"
)

const issuer = "https://idp.example.com/oauth2/default"

// server is ApprovalService over a store, on loopback, with a token file
// for each person.
type server struct {
	addr   string
	store  *approval.Store
	tokens map[string]string // person → token file
}

func newServer(t *testing.T) *server {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k", Algorithm: "ES256", Use: "sig"}}})
	jwksPath := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(jwksPath, jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := identity.NewJWTVerifier(t.Context(), identity.WithIssuer(issuer), identity.WithAudience("bollard-approvals"),
		identity.WithJWKSFile(jwksPath), identity.WithIDClaim("sub"))
	if err != nil {
		t.Fatal(err)
	}
	auth, err := approvers.NewJWTAuthenticator(v)
	if err != nil {
		t.Fatal(err)
	}
	logger, err := audit.New(audit.WithFile(filepath.Join(dir, "audit.log"), 1<<20, 1), audit.WithHMACKey([]byte("0123456789abcdef0123456789abcdef")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logger.Close(t.Context()) })
	store := approval.New()
	svc, err := approvers.New(store, auth, logger)
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	bollardv1.RegisterApprovalServiceServer(g, svc)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go g.Serve(l)
	t.Cleanup(func() { svc.Close(); g.Stop() })
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "k"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	s := &server{addr: l.Addr().String(), store: store, tokens: map[string]string{}}
	for name, groups := range map[string][]string{"ann": {"security-approvers"}, "bob": {"helpdesk"}} {
		tok, err := jwt.Signed(signer).Claims(map[string]any{"iss": issuer, "aud": "bollard-approvals", "sub": "00u" + name,
			"email": name + "@example.com", "groups": groups, "exp": time.Now().Add(time.Hour).Unix()}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".token")
		if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s.tokens[name] = path
	}
	return s
}

func (s *server) pending(t *testing.T, reason string) approval.Approval {
	t.Helper()
	a, err := s.store.Create(approval.Request{
		Binding: approval.Binding{Agent: "helpdesk-bot", Action: "user_lifecycle.suspend", ParamsHash: [32]byte{1}},
		Params:  map[string]any{"userId": "00uCARactive000000g7"}, DecisionID: "d1",
		Requirement: approval.Requirement{Approvers: []approval.Set{{Groups: []string{"security-approvers"}}}, Approvals: 1, TTL: 15 * time.Minute, Reason: reason},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func run(t *testing.T, s *server, who string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	full := append([]string{args[0], "--addr", s.addr, "--token-file", s.tokens[who]}, args[1:]...)
	err := approvalcli.Run(t.Context(), full, strings.NewReader(""), &out, &errOut)
	return out.String(), err
}

// An approver lists, shows and approves; the approval is then approved in
// the store. Someone outside the approvers is refused, with the reason.
func TestListShowApprove(t *testing.T) {
	s := newServer(t)
	a := s.pending(t, "suspending an admin\x1b[2J user")
	out, err := run(t, s, "ann", "list")
	if err != nil || !strings.Contains(out, a.ID) || !strings.Contains(out, "helpdesk-bot") || !strings.Contains(out, "0/1") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("a control character reached the terminal: %q", out)
	}
	out, err = run(t, s, "ann", "show", a.ID)
	if err != nil || !strings.Contains(out, `{"userId":"00uCARactive000000g7"}`) || !strings.Contains(out, `groups "security-approvers"`) {
		t.Fatalf("show: %v\n%s", err, out)
	}
	if _, err := run(t, s, "bob", "approve", a.ID); err == nil || !strings.Contains(err.Error(), "NOT_AN_APPROVER") {
		t.Errorf("bob's approval: %v, want NOT_AN_APPROVER", err)
	}
	out, err = run(t, s, "ann", "approve", a.ID, "--comment", "ticket SEC-1")
	if err != nil || !strings.Contains(out, "now approved, 1 of 1") {
		t.Fatalf("approve: %v\n%s", err, out)
	}
	if got, _ := s.store.Get(a.ID); got.State != approval.Approved || got.Votes[0].Comment != "ticket SEC-1" {
		t.Errorf("the store: %v %+v", got.State, got.Votes)
	}
	out, err = run(t, s, "ann", "list", "--state", "approved", "--json")
	var resp struct{ Approvals []struct{ ID string } }
	if err != nil || json.Unmarshal([]byte(out), &resp) != nil || len(resp.Approvals) != 1 || resp.Approvals[0].ID != a.ID {
		t.Errorf("list --state approved --json: %v\n%s", err, out)
	}
}

// show prints the rule exactly: with several approver sets, each set, and
// that a person must be in every one; --json carries the sets.
func TestShowApproverSets(t *testing.T) {
	s := newServer(t)
	a, err := s.store.Create(approval.Request{
		Binding: approval.Binding{Agent: "helpdesk-bot", Action: "user_lifecycle.suspend", ParamsHash: [32]byte{3}},
		Params:  map[string]any{"userId": "00uCARactive000000g7"}, DecisionID: "d3",
		Requirement: approval.Requirement{Approvals: 1, TTL: 15 * time.Minute, Reason: "r", Approvers: []approval.Set{
			{Groups: []string{"security-approvers"}, Users: []string{"sam@example.com"}},
			{Groups: []string{"helpdesk", "on call, EMEA"}, Users: []string{"ann@example.com"}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(t, s, "ann", "show", a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && (f[0] == "approvers:" || f[0] == "set") {
			got = append(got, strings.Join(f, " "))
		}
	}
	want := []string{
		"approvers: a person in every one of these 2 sets",
		`set 1: groups "security-approvers" or users "sam@example.com"`,
		`set 2: groups "helpdesk", "on call, EMEA" or users "ann@example.com"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("show's approvers:\n%s\nwant\n%s\nin\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), out)
	}
	out, err = run(t, s, "ann", "show", a.ID, "--json")
	var msg struct {
		Approvers struct {
			Sets []struct{ Groups, Users []string }
		}
	}
	if err != nil || json.Unmarshal([]byte(out), &msg) != nil || len(msg.Approvers.Sets) != 2 ||
		!slices.Equal(msg.Approvers.Sets[1].Groups, []string{"helpdesk", "on call, EMEA"}) || !slices.Equal(msg.Approvers.Sets[0].Users, []string{"sam@example.com"}) {
		t.Errorf("show --json: %v\n%s", err, out)
	}
}

// What an agent sent (the parameters), a policy wrote (the reason) or Okta
// holds reaches the terminal with its control and format characters shown
// as \uXXXX: an escape sequence cannot redraw the screen, and a bidi
// override cannot reorder what the approver reads.
func TestShowHiddenCharacters(t *testing.T) {
	s := newServer(t)
	a, err := s.store.Create(approval.Request{
		Binding: approval.Binding{Agent: "helpdesk-bot", Action: "user_lifecycle.suspend", ParamsHash: [32]byte{2}},
		Params:  map[string]any{"userId": "00uCAR\u202eevil\x1b[2J"}, DecisionID: "d2",
		Requirement: approval.Requirement{Approvers: []approval.Set{{Groups: []string{"security-approvers"}}}, Approvals: 1,
			TTL: 15 * time.Minute, Reason: "suspend\u2066 now\u200b\n"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"show", a.ID}, {"list"}} {
		out, err := run(t, s, "ann", args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if i := strings.IndexFunc(out, func(r rune) bool {
			return r == 0x1b || r == 0x202e || r == 0x2066 || r == 0x200b
		}); i >= 0 {
			t.Errorf("%v: a hidden character reached the terminal at %d: %q", args, i, out)
		}
		if !strings.Contains(out, `suspend\u2066 now\u200B`) {
			t.Errorf("%v: the reason is not shown with its hidden characters named:\n%s", args, out)
		}
	}
	out, _ := run(t, s, "ann", "show", a.ID)
	if !strings.Contains(out, `{"userId":"00uCAR\u202Eevil\u001b[2J"}`) {
		t.Errorf("show: the parameters are not shown with their hidden characters named:\n%s", out)
	}
}

// A denial needs a reason, given to the agent.
func TestDeny(t *testing.T) {
	s := newServer(t)
	a := s.pending(t, "r")
	if _, err := run(t, s, "ann", "deny", a.ID); err == nil || !strings.Contains(err.Error(), "--reason is required") {
		t.Errorf("deny without a reason: %v", err)
	}
	if out, err := run(t, s, "ann", "deny", a.ID, "--reason", "not during the freeze"); err != nil || !strings.Contains(out, "now denied") {
		t.Fatalf("deny: %v\n%s", err, out)
	}
	if got, _ := s.store.Get(a.ID); got.State != approval.Denied || got.Votes[0].Comment != "not during the freeze" {
		t.Errorf("the store: %v %+v", got.State, got.Votes)
	}
}

// The token never crosses the network in clear text, is read from a file
// or standard input only, and must be one token.
func TestTokenHandling(t *testing.T) {
	s := newServer(t)
	var out bytes.Buffer
	if err := approvalcli.Run(t.Context(), []string{"list", "--addr", "10.0.0.5:8181", "--token-file", s.tokens["ann"]}, nil, &out, &out); err == nil || !strings.Contains(err.Error(), "use --tls") {
		t.Errorf("a remote address without TLS: %v", err)
	}
	if err := approvalcli.Run(t.Context(), []string{"list", "--addr", s.addr}, nil, &out, &out); err == nil || !strings.Contains(err.Error(), "--token-file is required") {
		t.Errorf("no token: %v", err)
	}
	tok, _ := os.ReadFile(s.tokens["ann"])
	out.Reset()
	if err := approvalcli.Run(t.Context(), []string{"list", "--addr", s.addr, "--token-file", "-"}, bytes.NewReader(tok), &out, &out); err != nil {
		t.Errorf("a token on standard input: %v", err)
	}
	two := filepath.Join(t.TempDir(), "two")
	os.WriteFile(two, []byte("a b"), 0o600)
	if err := approvalcli.Run(t.Context(), []string{"list", "--addr", s.addr, "--token-file", two}, nil, &out, &out); err == nil || !strings.Contains(err.Error(), "one token") {
		t.Errorf("a file of two tokens: %v", err)
	}
	for _, args := range [][]string{{"nope"}, {"show"}, {"list", "extra"}, {"list", "--state", "maybe"}} {
		full := append(args[:1:1], append([]string{"--addr", s.addr, "--token-file", s.tokens["ann"]}, args[1:]...)...)
		if err := approvalcli.Run(t.Context(), full, nil, &out, &out); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
