package gateway

import (
	"maps"
	"slices"
	"testing"
	"testing/fstest"

	"google.golang.org/grpc/codes"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// TestPolicyErrorsDenyThroughTheGateway: a policy whose answer has the wrong
// shape, or that fails at run time, or that sets an obligation the sidecar
// does not know, denies with policy_error and nothing reaches Okta.
func TestPolicyErrorsDenyThroughTheGateway(t *testing.T) {
	policies := map[string]string{
		"wrong shape":   `package bollard.authz` + "\n" + `decision := {"allow": "yes", "deny": [], "obligations": {"require_confirmation": false}}`,
		"runtime error": `package bollard.authz` + "\n" + `decision := {"allow": true, "deny": [], "obligations": {"require_confirmation": to_number(input.agent.id) > 0}}`,
		"undefined":     `package bollard.authz` + "\n" + `decision := {"allow": true, "deny": [], "obligations": {}} if { input.version == 99 }`,
		// An obligation is a condition on an allowed call: one this sidecar
		// does not know (a newer policy's, or a typo) is never skipped.
		"unknown obligation":  `package bollard.authz` + "\n" + `decision := {"allow": true, "deny": [], "obligations": {"require_confirmation": false, "require_quorum": {"approvers": {"groups": ["security"]}}}}`,
		"misspelt obligation": `package bollard.authz` + "\n" + `decision := {"allow": true, "deny": [], "obligations": {"require_confirmation": false, "remove_field": ["profile.email"]}}`,
	}
	for name, rego := range policies {
		t.Run(name, func(t *testing.T) {
			engine, err := decision.New(t.Context(), decision.WithPolicyFS(fstest.MapFS{"authz.rego": {Data: []byte(rego)}}), decision.WithWatch(false))
			if err != nil {
				t.Fatal(err)
			}
			defer engine.Close()
			h := newHarness(t, func(o *harnessOption) { o.decider = engine })
			_, err = h.client.Execute(as(t.Context(), devKey("reader-bot")), &bollardv1.ExecuteRequest{
				Action: "users.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice}),
			})
			ei := wantStatus(t, err, codes.PermissionDenied, ReasonPolicyDenied)
			if ei.Metadata["deny_codes"] != decision.CodePolicyError {
				t.Errorf("deny codes = %q, want %s", ei.Metadata["deny_codes"], decision.CodePolicyError)
			}
			if n := len(h.sim.Requests()); n != 0 {
				t.Errorf("%d requests reached Okta", n)
			}
		})
	}
}

// TestHonouredObligations: the obligations a decision may set are exactly
// those the gateway applies, so that none it accepts is skipped.
func TestHonouredObligations(t *testing.T) {
	known := slices.Sorted(maps.Keys(decision.KnownObligations))
	got := slices.Sorted(slices.Values(honoured))
	if !slices.Equal(known, got) {
		t.Errorf("decision.KnownObligations %v, the gateway applies %v", known, got)
	}
}
