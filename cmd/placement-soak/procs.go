package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/devdb"
	"github.com/openstack-placement-go/placement/internal/testutil"
)

// Env is the database and the API processes the soak runs against.
type Env struct {
	opts     Options
	cluster  *devdb.Cluster // nil with --db-url
	adminURL string         // a user that may create databases
	dbName   string
	DBURL    string // the placement database
	workDir  string
	Procs    []*Proc
}

// Proc is one placement-api child process on a fixed port.
type Proc struct {
	Index int
	URL   string
	port  int
	env   *Env

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// NewEnv provisions the database (an owned cluster unless --db-url) and
// starts the API processes one after the other (the first migrates).
func NewEnv(ctx context.Context, o Options) (*Env, error) {
	e := &Env{opts: o, workDir: o.DataDir}
	if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
		return nil, err
	}
	if o.DBURL == "" {
		e.cluster = &devdb.Cluster{Dir: filepath.Join(o.DataDir, "pg"), Port: o.Port}
		if err := e.cluster.Ensure(ctx); err != nil {
			return nil, err
		}
		e.adminURL = e.cluster.URL("postgres")
		e.dbName = "placement_soak"
	} else {
		e.adminURL = o.DBURL
		e.dbName = "placement_soak_" + testutil.RandHex(4)
	}
	if err := e.recreateDB(ctx); err != nil {
		return nil, err
	}
	u, err := url.Parse(e.adminURL)
	if err != nil {
		return nil, err
	}
	u.Path = "/" + e.dbName
	e.DBURL = u.String()
	for i := 0; i < o.Processes; i++ {
		p, err := e.newProc(i)
		if err != nil {
			e.Close()
			return nil, err
		}
		e.Procs = append(e.Procs, p)
		if err := p.Start(ctx, i == 0); err != nil {
			e.Close()
			return nil, err
		}
	}
	return e, nil
}

func (e *Env) recreateDB(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, e.adminURL)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", e.adminURL, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	id := pgx.Identifier{e.dbName}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+id+" WITH (FORCE)"); err != nil {
		return err
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+id)
	return err
}

func (e *Env) newProc(i int) (*Proc, error) {
	port, err := testutil.FreePort()
	if err != nil {
		return nil, err
	}
	return &Proc{Index: i, port: port, URL: "http://127.0.0.1:" + strconv.Itoa(port), env: e}, nil
}

// OwnsCluster reports whether restart and stop faults are possible.
func (e *Env) OwnsCluster() bool { return e.cluster != nil }

// StopDB stops the owned cluster (pg_ctl stop -m fast).
func (e *Env) StopDB(ctx context.Context) error { return e.cluster.Stop(ctx) }

// StartDB starts the owned cluster and waits until it accepts
// connections, trying again for a few seconds (a port briefly taken).
func (e *Env) StartDB(ctx context.Context) error {
	return retry(ctx, func() error { return e.cluster.Ensure(ctx) })
}

// retry runs fn up to five times, a second apart, until it succeeds.
func retry(ctx context.Context, fn func() error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = fn(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
	}
	return err
}

// TerminateBackends ends every other session on the placement database and
// returns how many there were.
func (e *Env) TerminateBackends(ctx context.Context) (int, error) {
	conn, err := pgx.Connect(ctx, e.adminURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int
	err = conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = $1 AND pid <> pg_backend_pid()`, e.dbName).Scan(&n)
	return n, err
}

// SetReadOnly switches default_transaction_read_only of the placement
// database for the sessions that start afterwards. Switching it on also
// ends the current sessions (returning how many), as an operator does to
// begin a maintenance window; switching it off leaves them, as the end of
// one does.
func (e *Env) SetReadOnly(ctx context.Context, on bool) (int, error) {
	conn, err := pgx.Connect(ctx, e.adminURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	set := "RESET default_transaction_read_only"
	if on {
		set = "SET default_transaction_read_only = on"
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{e.dbName}.Sanitize()+" "+set); err != nil || !on {
		return 0, err
	}
	return e.TerminateBackends(ctx)
}

// Recover brings the database and every process back after the load.
func (e *Env) Recover(ctx context.Context) error {
	if e.cluster != nil {
		if err := e.StartDB(ctx); err != nil {
			return err
		}
	}
	for _, p := range e.Procs {
		if !p.Running() {
			if err := retry(ctx, func() error { return p.Start(ctx, false) }); err != nil {
				return err
			}
		}
	}
	return nil
}

// StartExtra starts one more process, with a cold candidate cache, for the
// final comparison; the caller stops it.
func (e *Env) StartExtra(ctx context.Context) (*Proc, error) {
	p, err := e.newProc(len(e.Procs))
	if err != nil {
		return nil, err
	}
	return p, p.Start(ctx, false)
}

// Close stops the processes and, unless --keep, drops the database and
// stops the owned cluster.
func (e *Env) Close() {
	for _, p := range e.Procs {
		p.Stop()
	}
	if e.opts.Keep {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if conn, err := pgx.Connect(ctx, e.adminURL); err == nil {
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{e.dbName}.Sanitize()+" WITH (FORCE)")
		conn.Close(ctx)
	}
	if e.cluster != nil {
		_ = e.cluster.Stop(ctx)
	}
}

// Start runs the binary on the process's port (migrating first when sync
// is set) and waits until it answers.
func (p *Proc) Start(ctx context.Context, sync bool) error {
	e := p.env
	conf := fmt.Sprintf("[api]\nauth_strategy = noauth2\n[placement_database]\nconnection = %s\nsync_on_startup = %v\n", e.DBURL, sync)
	confPath := filepath.Join(e.workDir, fmt.Sprintf("api-%d.conf", p.Index))
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(e.workDir, fmt.Sprintf("api-%d.log", p.Index)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(e.opts.ServerBin, "--config-file", confPath, "--bind", "127.0.0.1:"+strconv.Itoa(p.port))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	p.mu.Lock()
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()
	return waitReady(ctx, p.URL, exited, 60*time.Second)
}

// Running reports whether the process has not exited.
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Kill sends SIGKILL and waits for the exit.
func (p *Proc) Kill() {
	p.signal(syscall.SIGKILL, 10*time.Second)
}

// Stop sends SIGTERM, then SIGKILL after 20 s.
func (p *Proc) Stop() {
	if !p.signal(syscall.SIGTERM, 20*time.Second) {
		p.Kill()
	}
}

// signal sends sig and reports whether the process exited within wait.
func (p *Proc) signal(sig syscall.Signal, wait time.Duration) bool {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return true
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
		return true
	case <-time.After(wait):
		return false
	}
}

// waitReady polls GET / until it answers 200, the process exits or the
// timeout passes.
func waitReady(ctx context.Context, base string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	c := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		resp, err := c.Get(base + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return errors.New(base + ": placement-api exited during start (see its log under the data dir)")
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not answer within %s", base, timeout)
}

// WatchSessions samples pg_stat_activity every second until ctx ends and
// returns the sessions seen busy or idle in a transaction for more than
// three seconds: what a slow request waited for.
func (e *Env) WatchSessions(ctx context.Context) []string {
	var seen []string
	known := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			return seen
		case <-time.After(time.Second):
		}
		qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(qctx, e.adminURL)
		if err != nil {
			cancel()
			continue
		}
		rows, err := conn.Query(qctx, `
			SELECT pid, state, coalesce(wait_event_type || ':' || wait_event, ''),
			       round(extract(epoch FROM now() - state_change)::numeric, 1),
			       pg_blocking_pids(pid)::text, left(regexp_replace(query, '\s+', ' ', 'g'), 160)
			FROM pg_stat_activity
			WHERE datname = $1 AND pid <> pg_backend_pid() AND state <> 'idle'
			  AND backend_type = 'client backend'
			  AND now() - state_change > interval '3 seconds'`, e.dbName)
		if err == nil {
			for rows.Next() {
				var pid int
				var state, wait, blockers, query string
				var secs float64
				if rows.Scan(&pid, &state, &wait, &secs, &blockers, &query) != nil {
					continue
				}
				key := fmt.Sprintf("%d %s", pid, query)
				if !known[key] && len(seen) < 30 {
					known[key] = true
					seen = append(seen, fmt.Sprintf("pid %d %s %.1fs wait=%s blocked by %s: %s", pid, state, secs, wait, blockers, query))
				}
			}
			rows.Close()
		}
		conn.Close(context.WithoutCancel(qctx))
		cancel()
	}
}
