package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/sidecar"
	"github.com/bollard-dev/bollard/pkg/telemetry"
)

// serve is `sidecar serve --config FILE`: serve with a configuration file
// until the process is signalled.
func serve(ctx context.Context, args []string, stderr io.Writer) error {
	return serveMode(ctx, "serve", args, stderr, config.Load, sidecar.Run)
}

// approver is `sidecar approver --config FILE`: serve the approvers of a
// whole fleet (ApprovalService, the web console, the notifications) from
// the same configuration file the sidecars read, with state.backend redis.
func approver(ctx context.Context, args []string, stderr io.Writer) error {
	return serveMode(ctx, "approver", args, stderr, config.LoadApprover, sidecar.RunApprover)
}

func serveMode(ctx context.Context, name string, args []string, stderr io.Writer,
	load func(string) (config.Config, error), run func(context.Context, config.Config, ...sidecar.Option) error) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return errors.New(name + ": --config is required")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments: %v", name, fs.Args())
	}
	cfg, err := load(*path)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	if err != nil {
		return err
	}
	return run(ctx, cfg, sidecar.WithLogger(log), sidecar.WithVersion(version))
}

// newLogger is the process logger, on stderr (stdout carries the audit
// records and dev mode's banner).
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	// Log lines carry the trace and span ids of the call they belong to.
	if format == "text" {
		return slog.New(telemetry.LogHandler(slog.NewTextHandler(w, opts))), nil
	}
	return slog.New(telemetry.LogHandler(slog.NewJSONHandler(w, opts))), nil
}
