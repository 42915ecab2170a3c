package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/migrate"
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
	dsn := testdb.New(t)
	bouncer := startPgBouncer(t, dsn)
	dir := t.TempDir()
	bin := filepath.Join(dir, "placement-api")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/placement-api").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	conf := filepath.Join(dir, "placement.conf")
	connection := "postgresql+psycopg2" + strings.TrimPrefix(bouncer.transaction, "postgres")
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

// TestPgBouncerSync: db sync holds an advisory lock across transactions,
// so through transaction pooling it must refuse, with a message that says
// why, before it takes the lock; through session pooling it works.
func TestPgBouncerSync(t *testing.T) {
	requireE2E(t)
	bouncer := startPgBouncer(t, testdb.New(t))
	ctx := context.Background()
	if err := migrate.Sync(ctx, bouncer.transaction); !errors.Is(err, migrate.ErrSharedSessions) {
		t.Errorf("sync through transaction pooling: %v, want %v", err, migrate.ErrSharedSessions)
	}
	if err := migrate.Sync(ctx, bouncer.session); err != nil {
		t.Errorf("sync through session pooling: %v", err)
	}
}

// pgBouncer is a PgBouncer in front of one database, with a URL for each
// pooling mode.
type pgBouncer struct{ transaction, session string }

// startPgBouncer starts PgBouncer in front of dsn's database, on a free
// port, and stops it when the test ends.
func startPgBouncer(t *testing.T, dsn string) pgBouncer {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		bin = "/usr/sbin/pgbouncer"
		if _, err := os.Stat(bin); err != nil {
			t.Fatal("pgbouncer missing: make e2e installs it")
		}
	}
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
	server := fmt.Sprintf("host=%s port=%s dbname=%s", u.Hostname(), u.Port(), db)
	ini := fmt.Sprintf(`[databases]
%[1]s = %[2]s
%[1]s_session = %[2]s pool_mode=session
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %[3]d
auth_type = trust
auth_file = %[4]s
pool_mode = transaction
default_pool_size = 4
max_client_conn = 200
ignore_startup_parameters = extra_float_digits
`, db, server, addr.Port, filepath.Join(dir, "users.txt"))
	for name, text := range map[string]string{"pgbouncer.ini": ini, "users.txt": fmt.Sprintf("%q \"\"\n", user)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{filepath.Join(dir, "pgbouncer.ini")}
	if os.Geteuid() == 0 {
		args = append([]string{"-u", "postgres"}, args...)
	}
	var logs strings.Builder
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	start(t, cmd, 5*time.Second, logs.String)
	base := fmt.Sprintf("postgres://%s@127.0.0.1:%d/", user, addr.Port)
	b := pgBouncer{transaction: base + db, session: base + db + "_session"}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		conn, err := pgx.Connect(context.Background(), b.session)
		if err == nil {
			conn.Close(context.Background())
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgbouncer did not answer: %v\n%s", err, logs.String())
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
	var stopped atomic.Bool
	fail := func(format string, args ...any) { t.Errorf("round %d: "+format, append([]any{round}, args...)...) }
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stopped.Load() {
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
	stopped.Store(true)
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
