// Package devdb provisions the throwaway local PostgreSQL cluster that
// `make run` and `make test` use when no database is configured: a data
// directory under .data/, a server on 127.0.0.1, trust authentication.
package devdb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster describes a local development cluster.
type Cluster struct {
	Dir  string // data root, e.g. ".data/pg"
	Port int
	// Settings are extra server settings ("synchronous_commit=on"), applied
	// after the defaults.
	Settings []string
	// StandbyOf, when set, is the port of a primary on 127.0.0.1: a new
	// cluster is cloned from it with pg_basebackup -R and runs as its
	// streaming standby instead of being initialised.
	StandbyOf int
}

// URL returns the connection URL of database db on the cluster.
func (c Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// Ensure installs PostgreSQL if it is missing (when running as root on
// Debian), initialises the cluster if needed and starts it if it is not
// running. It is idempotent and safe to call from parallel processes only
// when one of them started the cluster first.
func (c Cluster) Ensure(ctx context.Context) error {
	bin, err := binDir(ctx)
	if err != nil {
		return err
	}
	if c.running() {
		return nil
	}
	abs, err := filepath.Abs(c.Dir)
	if err != nil {
		return err
	}
	data := filepath.Join(abs, "data")
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return err
	}
	cred, err := serverUser(abs)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err != nil {
		if c.StandbyOf != 0 {
			err = run(ctx, cred, filepath.Join(bin, "pg_basebackup"), "-D", data, "-R", "-X", "stream", "-c", "fast",
				"-h", "127.0.0.1", "-p", strconv.Itoa(c.StandbyOf), "-U", "postgres")
			if err == nil {
				// pg_basebackup creates the directory with its own mode;
				// the server insists on 0700.
				err = os.Chmod(data, 0o700)
			}
			if err != nil {
				return fmt.Errorf("pg_basebackup: %w", err)
			}
		} else if err := run(ctx, cred, filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C"); err != nil {
			return fmt.Errorf("initdb: %w", err)
		}
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300", c.Port, abs)
	for _, setting := range c.Settings {
		opts += " -c " + setting
	}
	if err := run(ctx, cred, filepath.Join(bin, "pg_ctl"), "-D", data, "-o", opts, "-l", filepath.Join(abs, "log"), "-w", "-t", "60", "start"); err != nil {
		return fmt.Errorf("pg_ctl start (see %s): %w", filepath.Join(abs, "log"), err)
	}
	return nil
}

// Stop stops the cluster if it runs.
func (c Cluster) Stop(ctx context.Context) error {
	return c.pgCtl(ctx, "-m", "fast", "stop")
}

// Freeze stops every process of the running cluster (SIGSTOP), as a
// paused VM or a stalled disk would: connections stay open, the kernel
// still accepts new ones, and nothing answers. thaw lets it go on.
func (c Cluster) Freeze() (thaw func() error, err error) {
	pids, err := c.processes()
	if err != nil {
		return nil, err
	}
	signal := func(sig syscall.Signal) error {
		var errs []error
		for _, pid := range pids {
			if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	// The postmaster first, so that it forks nothing while its children
	// stop.
	if err := signal(syscall.SIGSTOP); err != nil {
		signal(syscall.SIGCONT)
		return nil, err
	}
	return func() error { return signal(syscall.SIGCONT) }, nil
}

// processes lists the cluster's postmaster and its children (from
// /proc), the postmaster first.
func (c Cluster) processes() ([]int, error) {
	abs, _ := filepath.Abs(c.Dir)
	data, err := os.ReadFile(filepath.Join(abs, "data", "postmaster.pid"))
	if err != nil {
		return nil, fmt.Errorf("cluster not running: %w", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	postmaster, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return nil, fmt.Errorf("postmaster.pid: %w", err)
	}
	pids := []int{postmaster}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// "pid (comm) state ppid …"; comm may hold spaces and parentheses.
		_, rest, ok := strings.Cut(string(stat[bytes.LastIndexByte(stat, ')')+1:]), " ")
		fields := strings.Fields(rest)
		if ok && len(fields) > 1 && fields[1] == strconv.Itoa(postmaster) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// Promote turns a standby into a primary (pg_ctl promote, waiting until
// it accepts writes).
func (c Cluster) Promote(ctx context.Context) error {
	return c.pgCtl(ctx, "-w", "promote")
}

// pgCtl runs pg_ctl with args on the cluster's data directory, as the
// server's user.
func (c Cluster) pgCtl(ctx context.Context, args ...string) error {
	bin, err := binDir(ctx)
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(c.Dir)
	cred, err := serverUser(abs)
	if err != nil {
		return err
	}
	return run(ctx, cred, filepath.Join(bin, "pg_ctl"), append([]string{"-D", filepath.Join(abs, "data")}, args...)...)
}

func (c Cluster) running() bool {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", c.Port), 500*time.Millisecond)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// binDir finds the newest PostgreSQL server binaries, installing Debian's
// postgresql package when absent and we are root.
func binDir(ctx context.Context) (string, error) {
	if dir := find(); dir != "" {
		return dir, nil
	}
	if os.Geteuid() != 0 {
		return "", errors.New("PostgreSQL server binaries not found: install them (Debian/Ubuntu: sudo apt-get install -y postgresql) or set TEST_DATABASE_URL / [placement_database] connection")
	}
	fmt.Fprintln(os.Stderr, "devdb: installing PostgreSQL (apt-get install -y postgresql)…")
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "postgresql"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("apt-get %s: %w", strings.Join(args, " "), err)
		}
	}
	if dir := find(); dir != "" {
		return dir, nil
	}
	return "", errors.New("PostgreSQL installed but no initdb found under /usr/lib/postgresql/*/bin")
}

func find() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// serverUser returns the credentials to run the server with: PostgreSQL
// refuses to run as root, so root runs it as the "postgres" user and hands
// that user the data directory.
func serverUser(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("running as root needs a 'postgres' system user (apt-get install -y postgresql creates it)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := chownTree(dir, uid, gid); err != nil {
		return nil, err
	}
	// The server user must be able to reach the directory.
	for p := filepath.Dir(dir); p != "/" && p != "."; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o001 == 0 {
			os.Chmod(p, fi.Mode().Perm()|0o001)
		}
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func chownTree(dir string, uid, gid int) error {
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

func run(ctx context.Context, cred *syscall.Credential, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	cmd.Dir = "/"
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(out.String()))
	}
	return nil
}

// CreateDatabase creates database name on the server at serverURL unless it exists.
func CreateDatabase(ctx context.Context, serverURL, name string) error {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize())
	return err
}
