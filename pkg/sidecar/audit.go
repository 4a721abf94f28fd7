package sidecar

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"go.opentelemetry.io/otel/trace"

	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/telemetry"
)

// openAudit opens the audit log's sinks.
func openAudit(cfg config.Audit, o runOptions, log *slog.Logger, inst *telemetry.Instruments, tp trace.TracerProvider) (*audit.Logger, error) {
	tracer := tp.Tracer(telemetry.ScopeName)
	opts := []audit.Option{audit.WithWriteTimeout(cfg.WriteTimeout), audit.WithFailOpen(cfg.FailOpen), audit.WithLogger(log),
		audit.WithObserver(func(sink string, written bool) {
			if written {
				inst.AuditWritten(context.Background(), sink)
			} else {
				inst.AuditFailed(context.Background(), sink)
			}
		}),
		audit.WithCheckpointInterval(cfg.CheckpointInterval),
		audit.WithCheckpointObserver(func(c audit.Checkpoint) { exportCheckpoint(tracer, inst, c) })}
	if cfg.StdoutEnabled() {
		opts = append(opts, audit.WithStdout(o.stdout))
	}
	if cfg.File != "" {
		opts = append(opts, audit.WithFile(cfg.File, cfg.MaxFileBytes, cfg.MaxBackups))
	}
	// Outcomes of calls Okta carried out while no sink could take them.
	opts = append(opts, audit.WithSpool(cfg.SpoolFile, cfg.SpoolMaxBytes))
	if cfg.HMACKeyFile != "" {
		content, err := os.ReadFile(cfg.HMACKeyFile)
		if err != nil {
			return nil, fmt.Errorf("read audit.hmac_key_file: %w", err)
		}
		key, err := audit.ParseKey(content) // as `audit verify --key-file` reads it
		if err != nil {
			return nil, fmt.Errorf("audit.hmac_key_file: %w", err)
		}
		opts = append(opts, audit.WithHMACKey(key))
	} else {
		log.Warn("audit.hmac_key_file is not set: masked values use a random key and cannot be checked later")
		opts = append(opts, audit.WithRandomHMACKey())
	}
	l, err := audit.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	return l, nil
}

// exportCheckpoint sends an audit checkpoint's head off the node, as a gauge
// and a span, where `audit verify --head` can later take it from: a copy of
// the head that whoever cuts the file cannot reach.
func exportCheckpoint(tracer trace.Tracer, inst *telemetry.Instruments, c audit.Checkpoint) {
	ctx := context.Background()
	inst.AuditCheckpoint(ctx, c.Sink, c.Seq)
	_, span := tracer.Start(ctx, telemetry.SpanAuditCheckpoint, trace.WithAttributes(
		telemetry.AttrAuditSink.String(c.Sink), telemetry.AttrAuditSeq.Int64(int64(c.Seq)),
		telemetry.AttrAuditHash.String(c.Hash), telemetry.AttrAuditHead.String(c.Head())))
	span.End()
}
