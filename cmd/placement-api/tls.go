package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Serving HTTPS itself (--tls-cert, --tls-key), for deployments that
// encrypt between the load balancer and the API processes too (kolla's
// backend TLS, where the Python service sits behind Apache's mod_ssl).
// The certificate is re-read when its files change, so a renewal needs no
// restart or signal.

// certCheckEvery bounds how often a handshake looks at the files.
const certCheckEvery = time.Second

// certFiles is the served certificate and the files it came from.
type certFiles struct {
	certPath, keyPath string
	logger            *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   string // size and modification time of both files when read
	bad     string // the stamp of files that did not load (warned once)
	checked time.Time
}

// loadCertFiles reads the certificate and key, failing if they do not
// make a pair.
func loadCertFiles(certPath, keyPath string, logger *slog.Logger) (*certFiles, error) {
	c := &certFiles{certPath: certPath, keyPath: keyPath, logger: logger}
	stamp, err := c.fileStamp()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	c.cert, c.stamp, c.checked = &cert, stamp, time.Now()
	return c, nil
}

// fileStamp describes both files' size and modification time.
func (c *certFiles) fileStamp() (string, error) {
	var stamp string
	for _, p := range []string{c.certPath, c.keyPath} {
		fi, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("TLS certificate: %w", err)
		}
		stamp += fmt.Sprintf("%d/%d;", fi.Size(), fi.ModTime().UnixNano())
	}
	return stamp, nil
}

// get is tls.Config.GetCertificate: the current certificate, re-read
// first when the files changed since the last look (at most once per
// certCheckEvery). A pair that does not load keeps the previous one,
// with a warning.
func (c *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.checked) < certCheckEvery {
		return c.cert, nil
	}
	c.checked = time.Now()
	stamp, err := c.fileStamp()
	if err != nil || stamp == c.stamp || stamp == c.bad {
		return c.cert, nil
	}
	cert, err := tls.LoadX509KeyPair(c.certPath, c.keyPath)
	if err != nil {
		// Perhaps half-written: the next change is tried again.
		c.bad = stamp
		c.logger.Warn("TLS certificate files changed but do not load; serving the previous certificate", "error", err)
		return c.cert, nil
	}
	c.cert, c.stamp = &cert, stamp
	c.logger.Info("TLS certificate reloaded", "cert", c.certPath)
	return c.cert, nil
}

// tlsConfig serves c's certificate over TLS 1.2 or later, HTTP/1.1 only.
func (c *certFiles) tlsConfig() *tls.Config {
	return &tls.Config{
		GetCertificate: c.get,
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"http/1.1"},
	}
}
