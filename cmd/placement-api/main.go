// Command placement-api serves the Placement API.
//
//	placement-api [--config-file F ...] [--config-dir D] [--bind HOST:PORT|unix:PATH] [--dev]
//
// Under systemd it takes the listening socket the unit's socket passes
// (socket activation, listen.go) and reports readiness (Type=notify).
//
// --dev is what `make run` uses: with no [placement_database] connection it
// provisions a throwaway PostgreSQL cluster under .data/, migrates it, and
// defaults to noauth2.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(Main{Stdout: os.Stdout, Stderr: os.Stderr}.Run(ctx, os.Args[1:], os.Environ()))
}
