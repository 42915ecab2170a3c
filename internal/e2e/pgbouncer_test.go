package e2e

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/openstack-placement-go/placement/internal/testdb"
)

// TestPgBouncerTransactionPooling runs placement-api, with the
// configuration the Python service would have, through PgBouncer in
// transaction pooling, where server sessions, and the statements prepared
// on them, are shared between clients. Two processes in turn each serve
// concurrent writers and candidate readers; the second starts where the
// first's prepared statements are still on the server sessions. Neither
// may answer a 5xx, and the second must have switched to statements that
// are not prepared (its log says so).
func TestPgBouncerTransactionPooling(t *testing.T) {
	requireE2E(t)
	bouncer, err := exec.LookPath("pgbouncer")
	if err != nil {
		bouncer = "/usr/sbin/pgbouncer"
		if _, err := os.Stat(bouncer); err != nil {
			t.Fatal("pgbouncer missing: make e2e installs it")
		}
	}
	dsn := testdb.New(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	user, db := u.User.Username(), strings.TrimPrefix(u.Path, "/")
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil { // pgbouncer runs as postgres under root
		t.Fatal(err)
	}
	addr := freeAddr(t)
	ini := fmt.Sprintf(`[databases]
%s = host=%s port=%s dbname=%s
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
auth_type = trust
auth_file = %s
pool_mode = transaction
default_pool_size = 4
max_client_conn = 200
ignore_startup_parameters = extra_float_digits
`, db, u.Hostname(), u.Port(), db, addr.Port, filepath.Join(dir, "users.txt"))
	for name, text := range map[string]string{"pgbouncer.ini": ini, "users.txt": fmt.Sprintf("%q \"\"\n", user)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{filepath.Join(dir, "pgbouncer.ini")}
	if os.Geteuid() == 0 {
		args = append([]string{"-u", "postgres"}, args...)
	}
	var bouncerLog strings.Builder
	cmd := exec.Command(bouncer, args...)
	cmd.Stdout, cmd.Stderr = &bouncerLog, &bouncerLog
	start(t, cmd, 5*time.Second, bouncerLog.String)

	bin := filepath.Join(dir, "placement-api")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/placement-api").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	conf := filepath.Join(dir, "placement.conf")
	connection := fmt.Sprintf("postgresql+psycopg2://%s@127.0.0.1:%d/%s", user, addr.Port, db)
	if err := os.WriteFile(conf, []byte("[api]\nauth_strategy = noauth2\n[placement_database]\nconnection = "+connection+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		logs := serveThroughPooler(t, bin, conf, round)
		if round == 1 && !strings.Contains(logs, "prepared statements clash") {
			t.Errorf("the second process did not switch to unprepared statements; its log:\n%s", logs)
		}
	}
}

// serveThroughPooler starts placement-api with conf, runs 8 writers that
// each create a provider and claim on it while 4 readers ask for
// candidates, stops it and returns its log.
func serveThroughPooler(t *testing.T, bin, conf string, round int) string {
	t.Helper()
	addr := freeAddr(t).String()
	var logs strings.Builder
	cmd := exec.Command(bin, "--config-file", conf, "--bind", addr)
	var mu sync.Mutex
	cmd.Stdout, cmd.Stderr = lockedWriter{&mu, &logs}, lockedWriter{&mu, &logs}
	proc := start(t, cmd, 10*time.Second, func() string { mu.Lock(); defer mu.Unlock(); return logs.String() })
	base := "http://" + addr
	waitUp(t, base, 30*time.Second)
	c := client{t}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	fail := func(format string, args ...any) { t.Errorf("round %d: "+format, append([]any{round}, args...)...) }
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if st, out := c.call(base, "GET", "/allocation_candidates?resources=VCPU:1&limit=5", nil); st != 200 {
					fail("candidates: %d %v", st, out)
					return
				}
			}
		}()
	}
	var writers sync.WaitGroup
	for range 8 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			rp := uuid.NewString()
			for _, w := range []struct {
				method, path string
				body         any
				want         int
			}{
				{"POST", "/resource_providers", map[string]any{"name": rp, "uuid": rp}, 200},
				{"PUT", "/resource_providers/" + rp + "/inventories", map[string]any{"resource_provider_generation": 0,
					"inventories": map[string]any{"VCPU": map[string]any{"total": 8}}}, 200},
				{"PUT", "/allocations/" + uuid.NewString(), map[string]any{"consumer_generation": nil, "project_id": "p", "consumer_type": "INSTANCE",
					"user_id": "u", "allocations": map[string]any{rp: map[string]any{"resources": map[string]int{"VCPU": 2}}}}, 204},
				{"GET", "/allocation_candidates?resources=VCPU:6&in_tree=" + rp, nil, 200},
				{"GET", "/resource_providers/" + rp + "/usages", nil, 200},
			} {
				if st, out := c.call(base, w.method, w.path, w.body); st != w.want {
					fail("%s %s: %d %v, want %d", w.method, w.path, st, out, w.want)
					return
				}
			}
		}()
	}
	writers.Wait()
	close(stop)
	wg.Wait()
	_ = cmd.Process.Signal(os.Interrupt)
	<-proc.done
	mu.Lock()
	defer mu.Unlock()
	return logs.String()
}

// lockedWriter serialises the writes of a process's stdout and stderr.
type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
