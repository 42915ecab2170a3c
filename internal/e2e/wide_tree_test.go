package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/openstack-placement-go/placement/internal/testdb"
	"github.com/openstack-placement-go/placement/internal/testutil"
)

// TestWideTreeUnderAddressSpaceCap is issue 11's wide tree against the real
// binary with its defaults, its address space capped at 6 GB (ulimit -v):
// one root with VCPU, 12 children with CUSTOM_GPU total 6, and a request
// for VCPU plus 8 granular CUSTOM_GPU groups (about 430 million
// combinations) from a client that gives up after 5 s. The process must
// survive, and GET / must keep answering meanwhile and afterwards.
func TestWideTreeUnderAddressSpaceCap(t *testing.T) {
	requireE2E(t)
	dsn := testdb.New(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "placement-api")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/placement-api").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	conf := filepath.Join(dir, "placement.conf")
	if err := os.WriteFile(conf, []byte("[api]\nauth_strategy = noauth2\n[placement_database]\nconnection = "+dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t).String()
	cmd := exec.Command("bash", "-c", `ulimit -v 6000000 && exec "$0" --config-file "$1" --bind "$2"`, bin, conf, addr)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	proc := start(t, cmd, 10*time.Second, logs.String)
	base := "http://" + addr
	waitUp(t, base, 30*time.Second)

	c := client{t}
	root := uuid.NewString()
	c.must(base, 200, "POST", "/resource_providers", map[string]any{"name": "wide-root", "uuid": root})
	c.must(base, 200, "PUT", "/resource_providers/"+root+"/inventories", map[string]any{
		"resource_provider_generation": 0, "inventories": map[string]any{"VCPU": map[string]any{"total": 64}}})
	c.must(base, 201, "PUT", "/resource_classes/CUSTOM_GPU", nil)
	for i := range 12 {
		child := uuid.NewString()
		c.must(base, 200, "POST", "/resource_providers", map[string]any{"name": fmt.Sprintf("wide-gpu-%d", i), "uuid": child, "parent_provider_uuid": root})
		c.must(base, 200, "PUT", "/resource_providers/"+child+"/inventories", map[string]any{
			"resource_provider_generation": 0, "inventories": map[string]any{"CUSTOM_GPU": map[string]any{"total": 6}}})
	}
	q := "/allocation_candidates?resources=VCPU:1&group_policy=none"
	for i := 1; i <= 8; i++ {
		q += fmt.Sprintf("&resources%d=CUSTOM_GPU:1", i)
	}

	stopPings := testutil.PingEvery(&http.Client{Timeout: 2 * time.Second}, base+"/", 50*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+q, nil)
	req.Header.Set("x-auth-token", "admin")
	req.Header.Set("openstack-api-version", "placement 1.39")
	resp, err := http.DefaultClient.Do(req)
	status := "gave up after 5 s"
	if err == nil {
		status = resp.Status
		resp.Body.Close()
	}
	cancel()
	time.Sleep(2 * time.Second) // the server notices the client left
	pings := stopPings()
	select {
	case <-proc.done:
		t.Fatalf("placement-api died (%v) on the wide request; log:\n%s", proc.err, logs.String())
	default:
	}
	if len(pings.Failures) > 0 {
		t.Errorf("%d of %d GET / failed during the wide request: %v", len(pings.Failures), pings.Count, pings.Failures)
	}
	c.must(base, 200, "GET", "/resource_providers/"+root, nil)
	t.Logf("wide request: %s; %d GET / answered meanwhile", status, pings.Count)
}
