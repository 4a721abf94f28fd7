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
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// TestServeWithProjectedServiceAccountTokens configures JWT identity the way
// a Kubernetes deployment does (issuer, audience, JWKS file, the agent id from
// the service-account name claim) and calls with a signed token.
func TestServeWithProjectedServiceAccountTokens(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	jwksPath := filepath.Join(dir, "jwks.json")
	tokenPath := filepath.Join(dir, "okta-token")
	for p, body := range map[string][]byte{jwksPath: jwks, tokenPath: []byte("t")} {
		if err := os.WriteFile(p, body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	okta := httptest.NewServer(oktasim.New(oktasim.WithAPIToken("t")).Handler())
	defer okta.Close()
	cfg, err := config.Parse(fmt.Appendf(nil, `
server: {grpc_listen: "127.0.0.1:0", admin_listen: "127.0.0.1:0"}
okta: {org_url: %q, api_token_file: %q}
identity:
  jwt: {issuer: "https://kubernetes.default.svc", audience: bollard, jwks_file: %q, agent_claim: kubernetes.io.serviceaccount.name}
`, okta.URL, tokenPath, jwksPath))
	if err != nil {
		t.Fatal(err)
	}
	addrs := start(t, cfg)

	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(aud string) string {
		claims := map[string]any{
			"iss": "https://kubernetes.default.svc", "aud": []string{aud}, "sub": "system:serviceaccount:agents:reader-bot",
			"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(),
			"kubernetes.io": map[string]any{"namespace": "agents", "serviceaccount": map[string]any{"name": "reader-bot"}},
		}
		tok, err := jwt.Signed(signer).Claims(claims).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	conn, err := grpc.NewClient(addrs.GRPC.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	gw := bollardv1.NewGatewayServiceClient(conn)

	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+sign("bollard"))
	resp, err := gw.ListActions(ctx, &bollardv1.ListActionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Actions) != 16 {
		t.Errorf("reader-bot by service-account token may use %d actions, want 16", len(resp.Actions))
	}
	ctx = metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+sign("someone-else"))
	if _, err := gw.ListActions(ctx, &bollardv1.ListActionsRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("token for another audience: %v", err)
	}
}
