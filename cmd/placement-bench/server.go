package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openstack-placement-go/placement/internal/testutil"
)

// Server is one running Placement endpoint. Stop is nil for servers the
// bench did not start.
type Server struct {
	URL     string
	DBURL   string // the server's database, when the bench created it
	PID     int    // 0 if unknown
	PIDFile string // read when PID is 0
	Stop    func() error
}

// PeakRSS returns the server's peak resident set size in KiB (the sum over
// its processes), false when no pid is known.
func (s *Server) PeakRSS() (int, bool) { return s.measure(TreePeakRSS) }

// RSS returns the server's resident set size in KiB (with its children),
// false when no pid is known.
func (s *Server) RSS() (int, bool) { return s.measure(TreeRSS) }

// measure applies one of the Tree* readers to the server's pid, taken from
// PID or else PIDFile; false when neither gives one or the reader fails.
func (s *Server) measure(read func(pid int) (int, error)) (int, bool) {
	pid := s.PID
	if pid == 0 && s.PIDFile != "" {
		pid, _ = readPIDFile(s.PIDFile)
	}
	if pid == 0 {
		return 0, false
	}
	kib, err := read(pid)
	return kib, err == nil
}

// OurServer starts placement-api binaries on fresh databases.
type OurServer struct {
	Bin       string // the placement-api binary
	AdminURL  string // PostgreSQL URL of a user that may create databases
	ExtraConf string // optional file appended to the generated placement.conf
	WorkDir   string // config files and logs
}

// Start creates a fresh database and starts a server on it (see StartOn);
// stopping the server drops the database.
func (o *OurServer) Start(ctx context.Context) (*Server, error) {
	name := "placement_bench_" + testutil.RandHex(6)
	admin, err := pgx.Connect(ctx, o.AdminURL)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", o.AdminURL, err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("creating database %s: %w", name, err)
	}
	dropDB := func() error {
		c, err := pgx.Connect(context.Background(), o.AdminURL)
		if err != nil {
			return err
		}
		defer c.Close(context.Background())
		_, err = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		return err
	}
	u, err := url.Parse(o.AdminURL)
	if err != nil {
		_ = dropDB()
		return nil, err
	}
	u.Path = "/" + name
	s, err := o.StartOn(ctx, u.String())
	if err != nil {
		_ = dropDB()
		return nil, err
	}
	stop := s.Stop
	s.Stop = func() error {
		err := stop()
		if err := dropDB(); err != nil {
			return err
		}
		return err
	}
	return s, nil
}

// StartOn writes a placement.conf for the database at dbURL (noauth2,
// sync_on_startup) and runs the binary on a free port until it answers.
// Several servers may share one database.
func (o *OurServer) StartOn(ctx context.Context, dbURL string) (*Server, error) {
	conf := fmt.Sprintf("[api]\nauth_strategy = noauth2\n[placement_database]\nconnection = %s\nsync_on_startup = true\n", dbURL)
	if o.ExtraConf != "" {
		extra, err := os.ReadFile(o.ExtraConf)
		if err != nil {
			return nil, err
		}
		conf += string(extra)
	}
	name := "placement_bench_" + testutil.RandHex(6)
	confPath := filepath.Join(o.WorkDir, name+".conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	port, err := testutil.FreePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(o.WorkDir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(o.Bin, "--config-file", confPath, "--bind", "127.0.0.1:"+strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logf.Close() }()
	stop := func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		return nil
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), DBURL: dbURL, PID: cmd.Process.Pid, Stop: stop}
	if err := NewClient(s.URL, "admin", 1).Ping(ctx, 60*time.Second); err != nil {
		_ = stop()
		return nil, fmt.Errorf("%w (log: %s)", err, logf.Name())
	}
	return s, nil
}

// ReferenceServer starts the Python service with serve-upstream.sh, which
// recreates its database on every start.
type ReferenceServer struct {
	Script string
	Port   int
}

// Start (re)starts the reference on its port with an empty database.
func (r *ReferenceServer) Start(ctx context.Context) (*Server, error) {
	port := strconv.Itoa(r.Port)
	_ = exec.Command(r.Script, "stop", port).Run()
	out, err := exec.CommandContext(ctx, r.Script, "start", port).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s start %s: %v: %s", r.Script, port, err, out)
	}
	pidFile := "/var/tmp/placement-reference/" + port + ".pid"
	pid, _ := readPIDFile(pidFile)
	s := &Server{URL: "http://127.0.0.1:" + port, PID: pid, PIDFile: pidFile}
	s.Stop = func() error {
		if err := exec.Command(r.Script, "stop", port).Run(); err != nil {
			return err
		}
		// The script only signals uwsgi; its next start drops the database,
		// which fails while the old workers still hold connections.
		return waitGone(pid, "127.0.0.1:"+port, 60*time.Second)
	}
	return s, nil
}

// waitGone waits until process pid has exited and nothing listens on addr.
func waitGone(pid int, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		_, errProc := os.Stat(fmt.Sprintf("/proc/%d", pid))
		conn, errDial := net.DialTimeout("tcp", addr, time.Second)
		if errDial == nil {
			conn.Close()
		}
		if (pid == 0 || errProc != nil) && errDial != nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("server on %s (pid %d) still running after %s", addr, pid, timeout)
}
