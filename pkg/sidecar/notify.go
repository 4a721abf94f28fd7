package sidecar

import (
	"context"

	"github.com/bollard-dev/bollard/pkg/approvalnotify"
	"github.com/bollard-dev/bollard/pkg/config"
)

// buildNotify starts the webhook that announces each new pending approval
// of the gateway's store, when approvals.notify is set. It runs until the
// parts close, whatever ctx does, like the other background work.
func (p *parts) buildNotify(ctx context.Context, cfg *config.Notify, version string) error {
	if cfg == nil {
		return nil
	}
	webhook, err := cfg.WebhookURL()
	if err != nil {
		return err
	}
	p.notifier, err = approvalnotify.Start(context.WithoutCancel(ctx), p.approvals, webhook,
		approvalnotify.WithFormat(approvalnotify.Format(cfg.Format)), approvalnotify.WithConsoleURL(cfg.ConsoleURL),
		approvalnotify.WithTimeout(cfg.Timeout), approvalnotify.WithMaxAttempts(cfg.MaxAttempts),
		approvalnotify.WithUserAgent("bollard/"+version), approvalnotify.WithLogger(p.log))
	if err != nil {
		return err
	}
	p.onClose(func(context.Context) { p.notifier.Close() })
	return nil
}
