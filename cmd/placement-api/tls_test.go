package main

import (
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testutil"
)

// servedSerial connects to addr over TLS and returns the serial number of
// the certificate it presents.
func servedSerial(t *testing.T, ca *testutil.CA, addr string) int64 {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

func TestTLS_ServesHTTPSAndReloadsTheCertificate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca := testutil.NewCA(t, "test CA")
	ca.Issue(t, 100, certPath, keyPath)
	s, code := startArgs(t, testdb.Migrated(t), "", "--tls-cert", certPath, "--tls-key", keyPath)
	if s.base == "" {
		t.Fatalf("placement-api exited %d:\n%s", code, s.stderr)
	}
	addr := strings.TrimPrefix(s.base, "http://")
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}}}

	req, _ := http.NewRequest("POST", "https://"+addr+"/resource_providers", strings.NewReader(`{"name": "cn1"}`))
	req.Header.Set("X-Auth-Token", "admin")
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != 201 || !strings.HasPrefix(loc, "https://"+addr+"/resource_providers/") {
		t.Errorf("POST over TLS = %d, Location %q; want 201 and an https Location", resp.StatusCode, loc)
	}

	// A renewal on disk is served without a restart.
	time.Sleep(certCheckEvery + 100*time.Millisecond) // a new modification time
	ca.Issue(t, 200, certPath, keyPath)
	deadline := time.Now().Add(10 * time.Second)
	for servedSerial(t, ca, addr) != 200 {
		if time.Now().After(deadline) {
			t.Fatalf("the renewed certificate was not served within 10 s:\n%s", s.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Files that do not load keep the certificate in use, with one warning.
	if err := os.WriteFile(certPath, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		time.Sleep(certCheckEvery + 100*time.Millisecond)
		if got := servedSerial(t, ca, addr); got != 200 {
			t.Fatalf("after a broken renewal the served serial is %d; want 200", got)
		}
	}
	// One warning for the broken files, not one a second; a handshake
	// between the renewal's two writes may have warned once more.
	if n := strings.Count(s.stderr.String(), "do not load; serving the previous certificate"); n < 1 || n > 2 {
		t.Errorf("%d warnings about the broken files; want 1:\n%s", n, s.stderr)
	}
}

// TestTLS_PlainHTTPIsTold: plain HTTP to the TLS address is answered with
// net/http's 400 for it, not a closed connection.
func TestTLS_PlainHTTPIsTold(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	testutil.NewCA(t, "test CA").Issue(t, 1, certPath, keyPath)
	s, code := startArgs(t, testdb.Migrated(t), "", "--tls-cert", certPath, "--tls-key", keyPath)
	if s.base == "" {
		t.Fatalf("placement-api exited %d:\n%s", code, s.stderr)
	}
	resp, err := http.Get(s.base + "/")
	if err != nil {
		t.Fatalf("plain GET: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "Client sent an HTTP request to an HTTPS server.") {
		t.Errorf("plain GET = %d %q", resp.StatusCode, body)
	}
}

func TestTLS_FlagsGoTogether(t *testing.T) {
	_, err := Main{Stderr: &strings.Builder{}}.parseArgs([]string{"--tls-cert", "c.pem"})
	if err == nil || err.Error() != "--tls-cert and --tls-key go together" {
		t.Errorf("parseArgs = %v", err)
	}
}
