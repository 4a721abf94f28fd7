package sidecar

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// Each request to the receiver is a span, and the handler sees it in its
// context: the events it brings carry it, and their send spans link to it.
func TestTracedDelivery(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	var seen trace.SpanContext
	h := tracedDelivery(tp.Tracer("test"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = trace.SpanContextFromContext(r.Context())
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/okta/event-hooks", nil))
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Name != SpanHookDelivery || spans[0].SpanContext.SpanID() != seen.SpanID() {
		t.Fatalf("spans = %v, handler saw %v", spans, seen)
	}
	if spans[0].Status.Code.String() != "Error" {
		t.Errorf("a 503 is not marked as an error: %v", spans[0].Status)
	}
}

// The receiver serves HTTPS when given a certificate, and answers Okta's
// verification only with the secret.
func TestHookReceiverOverTLS(t *testing.T) {
	sim := oktasim.New(oktasim.WithAPIToken("file-token"))
	okta := httptest.NewServer(sim.Handler())
	defer okta.Close()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile := write("hook.crt", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	keyFile := write("hook.key", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	agentKey, _ := identity.GenerateKey()
	cfg, err := config.Load(write("bollard.yaml", fmt.Sprintf(`
server: {grpc_listen: 127.0.0.1:0, admin_listen: 127.0.0.1:0}
okta: {org_url: %s, api_token_file: %s}
identity: {keys_file: %s}
hooks: {listen: 127.0.0.1:0, secret_file: %s, tls_cert_file: %s, tls_key_file: %s}
`, okta.URL, write("token", "file-token"), write("keys.yaml", "agents:\n  - {id: a, key_sha256: "+identity.HashKey(agentKey)+"}\n"),
		write("secret", "hook-secret\n"), certFile, keyFile)))
	if err != nil {
		t.Fatal(err)
	}
	addrs := start(t, cfg)
	pool := x509.NewCertPool()
	pool.AddCert(mustParse(t, der))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
	get := func(secret string) int {
		req, _ := http.NewRequest("GET", "https://"+addrs.Hooks.String()+"/okta/event-hooks", nil)
		req.Header.Set("X-Okta-Verification-Challenge", "abc")
		if secret != "" {
			req.Header.Set("Authorization", secret)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get("hook-secret"); got != http.StatusOK {
		t.Errorf("verification with the secret: %d", got)
	}
	if got := get("wrong"); got != http.StatusUnauthorized {
		t.Errorf("verification with a wrong secret: %d", got)
	}
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
