package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/openstack-placement-go/placement/internal/api"
	"github.com/openstack-placement-go/placement/internal/config"
	"github.com/openstack-placement-go/placement/internal/devdb"
	"github.com/openstack-placement-go/placement/internal/logging"
	"github.com/openstack-placement-go/placement/internal/policy"
)

// options is the command line: the configuration files, as
// config.ParseArgs finds them, and placement-api's own flags.
type options struct {
	files          []string
	bind           string
	urlPrefix      string
	policyDefaults string
	metricsBind    string
	tlsCert        string
	tlsKey         string
	maxBody        int64
	dev            bool
	version        bool
}

// errUsage is a command line the flag package refused; it has said why.
var errUsage = errors.New("usage")

// parseArgs reads the command line.
func (m Main) parseArgs(args []string) (options, error) {
	var o options
	files, rest, err := config.ParseArgs(args)
	if err != nil {
		return o, err
	}
	o.files = files
	fs := flag.NewFlagSet("placement-api", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&o.bind, "bind", "127.0.0.1:8778", "listen address HOST:PORT, or unix:PATH (a socket systemd passes takes its place)")
	fs.StringVar(&o.urlPrefix, "url-prefix", "", "serve the API under this path, e.g. /placement (links and Location include it)")
	fs.StringVar(&o.policyDefaults, "policy-defaults", policy.SetMaster, "registered policy defaults: master (upstream 2023.1+) or zed (placement 8.0.0)")
	fs.StringVar(&o.metricsBind, "metrics-bind", "", "serve /metrics without authentication on this HOST:PORT (or unix:PATH) as well (on the API address it needs the admin_api rule)")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate (chain) file; re-read when it changes")
	fs.StringVar(&o.tlsKey, "tls-key", "", "the PEM private key of --tls-cert")
	fs.Int64Var(&o.maxBody, "max-body-bytes", api.DefaultMaxBodyBytes, "largest request body accepted (413 beyond; negative: no limit)")
	fs.BoolVar(&o.dev, "dev", false, "development mode: local PostgreSQL under .data/ when no database is configured, noauth2 by default")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	if err := fs.Parse(rest); err != nil {
		return o, errUsage
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return o, errors.New("--tls-cert and --tls-key go together")
	}
	return o, nil
}

// configure loads the configuration, opens the logs (and makes them the
// default logger), logs the configuration's warnings and, with --dev, fills
// in the development defaults.
func (m Main) configure(ctx context.Context, o options, environ []string) (*config.Config, *logging.Logger, error) {
	cfg, warnings, err := config.Load(o.files, environ)
	if err != nil {
		return nil, nil, err
	}
	logs, err := logging.Open(logging.Options{
		Debug: cfg.Default.Debug, File: cfg.Default.LogFile, Dir: cfg.Default.LogDir,
		UseStderr: cfg.Default.UseStderr, JSON: cfg.Default.UseJSON, Program: "placement-api",
		Syslog: cfg.Default.UseSyslog, Journal: cfg.Default.UseJournal, Facility: cfg.Default.SyslogLogFacility,
		Format: logging.Format{
			Context: cfg.Default.ContextFormat, Default: cfg.Default.DefaultFormat, DebugSuffix: cfg.Default.DebugFormatSuffix,
			UserIdentity: cfg.Default.UserIdentityFormat, DateFormat: cfg.Default.LogDateFormat,
			ExceptionPrefix: cfg.Default.ExceptionPrefix,
		},
	}, m.Stderr)
	if err != nil {
		return nil, nil, err
	}
	slog.SetDefault(logs.Logger)
	if cfg.Default.LogConfigAppend != "" {
		warnings = append(warnings, "[DEFAULT] log_config_append is not supported (it names a Python logging configuration): logging follows [DEFAULT] log_file, log_dir, use_stderr, use_journal and use_syslog")
	}
	for _, w := range append(warnings, logs.Warnings...) {
		logs.Logger.Warn(w)
	}
	if o.dev {
		if err := devDefaults(ctx, cfg, environ, m.Stdout); err != nil {
			logs.Close()
			return nil, nil, err
		}
	}
	return cfg, logs, nil
}

// devDefaults fills in what `make run` needs on a fresh machine.
func devDefaults(ctx context.Context, cfg *config.Config, environ []string, stdout io.Writer) error {
	if len(cfg.Files) == 0 && !hasEnv(environ, "OS_API__AUTH_STRATEGY") {
		cfg.API.AuthStrategy = "noauth2"
	}
	cfg.Database.SyncOnStartup = true
	if cfg.Database.Connection != "" {
		return nil
	}
	c := devdb.Cluster{Dir: ".data/pg", Port: 55433}
	fmt.Fprintf(stdout, "No [placement_database] connection configured: using a local PostgreSQL under %s (port %d).\n", c.Dir, c.Port)
	if err := c.Ensure(ctx); err != nil {
		return err
	}
	if err := devdb.CreateDatabase(ctx, c.URL("postgres"), "placement"); err != nil {
		return err
	}
	cfg.Database.Connection = c.URL("placement")
	return nil
}

func hasEnv(environ []string, name string) bool {
	for _, kv := range environ {
		if k, _, _ := strings.Cut(kv, "="); strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// reopenOnHangup reopens the log file on every SIGHUP (logrotate's
// postrotate signal) until the returned function is called.
func reopenOnHangup(logs *logging.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				if err := logs.Reopen(); err != nil {
					fmt.Fprintln(os.Stderr, "placement-api: reopening the log file:", err)
				} else {
					logs.Info("log file reopened")
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
	}
}
