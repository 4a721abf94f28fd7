package sidecar

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/tooltest"
)

// TestCertFilesFollowRenewal: a renewed pair is served once the check
// interval has passed, and a broken one keeps the pair in use.
func TestCertFilesFollowRenewal(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir, "first.test")
	files, err := loadCertFiles(config.TLS{CertFile: certFile, KeyFile: keyFile}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	files.now = func() time.Time { return now }
	served := func() string {
		t.Helper()
		c, err := files.certificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return leaf.Subject.CommonName
	}
	if got := served(); got != "first.test" {
		t.Fatalf("served %q", got)
	}

	certPEM, keyPEM := tooltest.SelfSigned(t, "renewed.test")
	write := func(name string, body []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("first.test.crt", certPEM)
	write("first.test.key", keyPEM)
	if got := served(); got != "first.test" {
		t.Errorf("served %q before the check interval passed", got)
	}
	now = now.Add(certCheckInterval)
	if got := served(); got != "renewed.test" {
		t.Errorf("served %q after renewal, want renewed.test", got)
	}

	// Half a renewal (a new certificate, the old key) does not load.
	other, _ := tooltest.SelfSigned(t, "broken.test")
	write("first.test.crt", other)
	now = now.Add(certCheckInterval)
	if got := served(); got != "renewed.test" {
		t.Errorf("served %q with a certificate that does not match its key, want the previous one", got)
	}
}

func TestCertFilesMissingStopTheStart(t *testing.T) {
	if _, err := loadCertFiles(config.TLS{CertFile: "/nonexistent/tls.crt", KeyFile: "/nonexistent/tls.key"}, quiet); err == nil {
		t.Fatal("missing certificate files accepted")
	}
}
