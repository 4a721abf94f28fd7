package gateway

import (
	"testing"
	"testing/fstest"

	"google.golang.org/grpc/codes"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// TestPolicyErrorsDenyThroughTheGateway: a policy whose answer has the wrong
// shape, or that fails at run time, denies with policy_error and nothing
// reaches Okta.
func TestPolicyErrorsDenyThroughTheGateway(t *testing.T) {
	policies := map[string]string{
		"wrong shape":   `package bollard.authz` + "\n" + `decision := {"allow": "yes", "deny": [], "obligations": {"require_confirmation": false}}`,
		"runtime error": `package bollard.authz` + "\n" + `decision := {"allow": true, "deny": [], "obligations": {"require_confirmation": to_number(input.agent.id) > 0}}`,
		"undefined":     `package bollard.authz` + "\n" + `decision := {"allow": true, "deny": [], "obligations": {}} if { input.version == 99 }`,
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
