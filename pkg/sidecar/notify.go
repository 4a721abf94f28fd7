package sidecar

import (
	"context"
	"strings"

	"github.com/bollard-dev/bollard/pkg/approvalnotify"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/console"
)

// buildNotify starts the webhook that announces each new pending approval
// of the gateway's store, when approvals.notify is set. It runs until the
// parts close, whatever ctx does, like the other background work.
// Notifications link to approvals.notify.console_url, or, when that is not
// set, to the console this process serves (consoleURL, its /approvals/
// page; empty when off).
func (p *parts) buildNotify(ctx context.Context, cfg *config.Notify, version, consoleURL string) error {
	if cfg == nil {
		return nil
	}
	link := cfg.ConsoleURL
	if link == "" {
		link = strings.TrimSuffix(consoleURL, console.Prefix)
	}
	webhook, err := cfg.WebhookURL()
	if err != nil {
		return err
	}
	p.notifier, err = approvalnotify.Start(context.WithoutCancel(ctx), p.approvals, webhook,
		approvalnotify.WithFormat(approvalnotify.Format(cfg.Format)), approvalnotify.WithConsoleURL(link),
		approvalnotify.WithTimeout(cfg.Timeout), approvalnotify.WithMaxAttempts(cfg.MaxAttempts),
		approvalnotify.WithUserAgent("bollard/"+version), approvalnotify.WithLogger(p.log),
		approvalnotify.WithURLReload(cfg.WebhookURL)) // a rotated Secret is used without a restart
	if err != nil {
		return err
	}
	p.onClose(func(context.Context) { p.notifier.Close() })
	return nil
}
