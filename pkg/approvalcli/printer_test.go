package approvalcli

import (
	"slices"
	"testing"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
)

// The approvers' lines for each form of the message: one set as it is;
// from a sidecar older than sets, the union, said to be only that.
func TestApproverLines(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    *bollardv1.ApproverRequirement
		want [][2]string
	}{
		{"one set", &bollardv1.ApproverRequirement{Groups: []string{"sec"}, Users: []string{"a@example.com"},
			Sets: []*bollardv1.ApproverSet{{Groups: []string{"sec"}, Users: []string{"a@example.com"}}}},
			[][2]string{{"approvers", `groups "sec" or users "a@example.com"`}}},
		{"a set of users only", &bollardv1.ApproverRequirement{Sets: []*bollardv1.ApproverSet{{Users: []string{`a "b"`}}}},
			[][2]string{{"approvers", `users "a \"b\""`}}},
		{"union only", &bollardv1.ApproverRequirement{Groups: []string{"sec", "oncall"}},
			[][2]string{{"approvers", `groups "sec", "oncall" (the union of the policy's sets: this sidecar does not send the sets, so a person named here may still not be an approver)`}}},
		{"nothing", &bollardv1.ApproverRequirement{}, [][2]string{{"approvers", "none named"}}},
		{"no message", nil, [][2]string{{"approvers", "none named"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := approvers(tc.r); !slices.Equal(got, tc.want) {
				t.Errorf("approvers = %q, want %q", got, tc.want)
			}
		})
	}
}
