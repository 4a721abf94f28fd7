package sidecar

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/policies"
)

// policySource turns a directory or bundle setting into engine options; with
// neither, the policies embedded in the binary.
func policySource(dir string, b *config.Bundle) ([]decision.Option, error) {
	switch {
	case b != nil:
		var opts []decision.Option
		var verify *decision.BundleVerification
		if v := b.Verification; v != nil {
			key, err := v.PublicKey()
			if err != nil {
				return nil, err
			}
			verify = &decision.BundleVerification{KeyID: v.KeyID, PublicKey: key, Algorithm: v.Algorithm, Scope: v.Scope}
		}
		if b.File != "" {
			opts = append(opts, decision.WithBundleFile(b.File))
			if verify != nil {
				opts = append(opts, decision.WithBundleVerification(*verify))
			}
			return opts, nil
		}
		return append(opts, decision.WithBundleURL(b.URL, decision.BundleOptions{
			PollInterval: b.PollInterval, Timeout: b.Timeout, BearerTokenFile: b.BearerTokenFile, Verification: verify,
		})), nil
	case dir != "":
		return []decision.Option{decision.WithPolicyDir(dir)}, nil
	}
	return []decision.Option{decision.WithPolicyFS(policies.FS)}, nil
}

// shadowEngine loads the candidate policy decided beside the enforced one,
// or returns nil when none is configured. Its reloads are logged as the
// enforced policy's are, under the "shadow" logger group.
func shadowEngine(ctx context.Context, cfg config.Policy, log *slog.Logger) (*decision.Engine, error) {
	if cfg.Shadow == nil {
		return nil, nil
	}
	opts, err := policySource(cfg.Shadow.Dir, cfg.Shadow.Bundle)
	if err != nil {
		return nil, fmt.Errorf("shadow policy: %w", err)
	}
	opts = append(opts, decision.WithLogger(log.With(slog.String("policy", "shadow"))), decision.WithEvalTimeout(cfg.EvalTimeout))
	e, err := decision.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load shadow policy: %w", err)
	}
	return e, nil
}
