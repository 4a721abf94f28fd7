package sidecar

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/bollard-dev/bollard/pkg/config"
)

// certCheckInterval is how often a handshake looks whether the certificate
// files changed: a Secret that cert-manager renews is picked up within it,
// without a restart and without a stat on every handshake.
const certCheckInterval = 30 * time.Second

// certFiles is a certificate and key read from files, read again when
// either file changes. A pair that fails to load keeps the one in use (and
// says so in the log) rather than leave the listener without a certificate.
type certFiles struct {
	certFile, keyFile string
	log               *slog.Logger
	now               func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string // the files' sizes and modification times when read
	checked time.Time
}

func loadCertFiles(cfg config.TLS, log *slog.Logger) (*certFiles, error) {
	c := &certFiles{certFile: cfg.CertFile, keyFile: cfg.KeyFile, log: log, now: time.Now}
	stamp, err := c.stampNow()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return nil, fmt.Errorf("server.tls: %w", err)
	}
	c.cert, c.stamp, c.checked = &cert, stamp, c.now()
	return c, nil
}

func (c *certFiles) stampNow() (string, error) {
	var stamp string
	for _, path := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(path)
		if err != nil {
			return "", fmt.Errorf("server.tls: %w", err)
		}
		stamp += fmt.Sprintf("%d@%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return stamp, nil
}

// certificate is tls.Config.GetCertificate.
func (c *certFiles) certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Sub(c.checked) >= certCheckInterval {
		c.checked = now
		if stamp, err := c.stampNow(); err == nil && stamp != c.stamp {
			if cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile); err != nil {
				c.log.Error("server.tls: the changed certificate files do not load; serving the previous certificate", "error", err)
			} else {
				c.cert, c.stamp = &cert, stamp
				c.log.Info("server.tls: certificate reloaded", "cert_file", c.certFile)
			}
		}
	}
	return c.cert, nil
}

// tlsListener serves TLS on l with the certificate of files: TLS 1.2 at
// least, and HTTP/2 by ALPN, which gRPC clients require.
func tlsListener(l net.Listener, files *certFiles) net.Listener {
	return tls.NewListener(l, &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2"}, GetCertificate: files.certificate})
}
