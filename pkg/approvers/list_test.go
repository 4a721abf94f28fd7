package approvers

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/audit"
)

func ids(as []*bollardv1.Approval) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.GetId()
	}
	return out
}

// A person lists only the approvals they may approve, pending ones unless
// they ask for other states, oldest first.
func TestListOnlyQualified(t *testing.T) {
	h := newHarness(t)
	first := h.create(t, 1)
	h.clk.advance(time.Second)
	helpdesk := h.create(t, 1, []string{"helpdesk"})
	h.clk.advance(time.Second)
	second := h.create(t, 1)
	h.clk.advance(time.Second)
	both := h.create(t, 1, []string{approvers}, []string{"oncall"})
	h.clk.advance(time.Second)
	decided := h.create(t, 1)
	if _, err := h.store.Vote(decided.ID, approval.Person{Subject: bob.sub, Email: bob.email, Groups: bob.groups}, true, ""); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		who    person
		states []bollardv1.ApprovalState
		want   []string
	}{
		{ann, nil, []string{first.ID, second.ID}},
		{bob, nil, []string{first.ID, second.ID, both.ID}},
		{carol, nil, []string{helpdesk.ID}},
		{person{"00uNOBODY", "nobody@example.com", nil}, nil, nil},
		{ann, []bollardv1.ApprovalState{bollardv1.ApprovalState_APPROVAL_STATE_APPROVED}, []string{decided.ID}},
		{ann, []bollardv1.ApprovalState{bollardv1.ApprovalState_APPROVAL_STATE_APPROVED, bollardv1.ApprovalState_APPROVAL_STATE_PENDING},
			[]string{first.ID, second.ID, decided.ID}},
	} {
		resp, err := h.client.ListApprovals(as(t.Context(), h.token(t, tc.who)), &bollardv1.ListApprovalsRequest{States: tc.states})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(resp.GetApprovals()); !slices.Equal(got, tc.want) || resp.GetNextPageToken() != "" {
			t.Errorf("%s lists %v (next %q), want %v", tc.who.sub, got, resp.GetNextPageToken(), tc.want)
		}
	}
}

// Pages follow on from each other, each token good for its own listing
// only: not another person's, not other states, not made up.
func TestListPages(t *testing.T) {
	h := newHarness(t)
	var want []string
	for range 5 {
		want = append(want, h.create(t, 1).ID)
		h.create(t, 1, []string{"helpdesk"}) // between them, not ann's
		h.clk.advance(time.Second)
	}
	ctx := as(t.Context(), h.token(t, ann))
	var got []string
	tok := ""
	for page := 0; ; page++ {
		resp, err := h.client.ListApprovals(ctx, &bollardv1.ListApprovalsRequest{PageSize: 2, PageToken: tok})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids(resp.GetApprovals())...)
		if tok = resp.GetNextPageToken(); tok == "" {
			break
		}
		if page > 5 {
			t.Fatal("no end to the pages")
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages %v, want %v", got, want)
	}

	resp, err := h.client.ListApprovals(ctx, &bollardv1.ListApprovalsRequest{PageSize: 2})
	if err != nil || resp.GetNextPageToken() == "" {
		t.Fatal(resp, err)
	}
	tok = resp.GetNextPageToken()
	// A vote between pages does not shift the next page.
	if _, err := h.client.Approve(as(t.Context(), h.token(t, bob)), &bollardv1.ApproveRequest{ApprovalId: want[0]}); err != nil {
		t.Fatal(err)
	}
	if next, err := h.client.ListApprovals(ctx, &bollardv1.ListApprovalsRequest{PageSize: 2, PageToken: tok}); err != nil ||
		!slices.Equal(ids(next.GetApprovals()), want[2:4]) {
		t.Errorf("the page after a vote: %v, %v; want %v", ids(next.GetApprovals()), err, want[2:4])
	}

	for name, req := range map[string]struct {
		ctx context.Context
		req *bollardv1.ListApprovalsRequest
	}{
		"another person's token": {as(t.Context(), h.token(t, bob)), &bollardv1.ListApprovalsRequest{PageToken: tok}},
		"other states":           {ctx, &bollardv1.ListApprovalsRequest{PageToken: tok, States: []bollardv1.ApprovalState{bollardv1.ApprovalState_APPROVAL_STATE_DENIED}}},
		"a made-up token":        {ctx, &bollardv1.ListApprovalsRequest{PageToken: "AQIAAAAAAAAAAGFwX1g"}},
		"not base64":             {ctx, &bollardv1.ListApprovalsRequest{PageToken: "!!"}},
		"a negative page size":   {ctx, &bollardv1.ListApprovalsRequest{PageSize: -1}},
		"an unspecified state":   {ctx, &bollardv1.ListApprovalsRequest{States: []bollardv1.ApprovalState{bollardv1.ApprovalState_APPROVAL_STATE_UNSPECIFIED}}},
		"an unknown state":       {ctx, &bollardv1.ListApprovalsRequest{States: []bollardv1.ApprovalState{42}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := h.client.ListApprovals(req.ctx, req.req)
			wantStatus(t, err, codes.InvalidArgument, ReasonInvalidArgument)
		})
	}
}

// Page sizes: 0 is 50, more than 200 is 200.
func TestListPageSize(t *testing.T) {
	h := newHarness(t)
	for i := range MaxPageSize + 1 {
		if _, err := h.store.Create(approval.Request{Binding: approval.Binding{Agent: "bot" + string(rune('a'+i%20)) + string(rune('a'+i/20)), Action: "users.delete"},
			Requirement: approval.Requirement{Approvers: []approval.Set{{Groups: []string{approvers}}}, Approvals: 1, Reason: "r"}}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := as(t.Context(), h.token(t, ann))
	for size, want := range map[int32]int{0: DefaultPageSize, 1000: MaxPageSize, 7: 7} {
		resp, err := h.client.ListApprovals(ctx, &bollardv1.ListApprovalsRequest{PageSize: size})
		if err != nil || len(resp.GetApprovals()) != want || resp.GetNextPageToken() == "" {
			t.Errorf("page size %d: %d approvals, %v; want %d and a next page", size, len(resp.GetApprovals()), err, want)
		}
	}
}

// GetApproval shows the approval with its target when a reader is set,
// and without it when the reader fails.
func TestGetWithTarget(t *testing.T) {
	reader := &fakeTarget{}
	h := newHarness(t, WithTargetReader(reader))
	a := h.create(t, 1)
	ctx := as(t.Context(), h.token(t, ann))
	resp, err := h.client.GetApproval(ctx, &bollardv1.GetApprovalRequest{ApprovalId: a.ID})
	if err != nil || resp.GetApproval().GetTarget().GetFields()["status"].GetStringValue() != "ACTIVE" ||
		resp.GetApproval().GetParams().GetFields()["userId"].GetStringValue() != dave.sub {
		t.Fatalf("get: %v, %v", resp, err)
	}
	reader.fail = true
	resp, err = h.client.GetApproval(ctx, &bollardv1.GetApprovalRequest{ApprovalId: a.ID})
	if err != nil || resp.GetApproval().GetTarget() != nil || resp.GetApproval().GetId() != a.ID {
		t.Fatalf("get with Okta unreadable: %v, %v", resp, err)
	}
	// Nobody else's call reads Okta: a non-approver is refused first.
	reader.fail, reader.reads = false, 0
	if _, err := h.client.GetApproval(as(t.Context(), h.token(t, carol)), &bollardv1.GetApprovalRequest{ApprovalId: a.ID}); err == nil || reader.reads != 0 {
		t.Errorf("a non-approver's get: %v, %d reads", err, reader.reads)
	}
	// List and votes never carry target.
	list, _ := h.client.ListApprovals(ctx, &bollardv1.ListApprovalsRequest{})
	if len(list.GetApprovals()) != 1 || list.GetApprovals()[0].GetTarget() != nil {
		t.Errorf("listed %v", list.GetApprovals())
	}
}

type fakeTarget struct {
	fail  bool
	reads int
}

func (f *fakeTarget) ReadTarget(_ context.Context, a approval.Approval) (*structpb.Struct, error) {
	f.reads++
	if f.fail {
		return nil, errors.New("okta unavailable")
	}
	return structpb.NewStruct(map[string]any{"id": a.Params["userId"], "status": "ACTIVE"})
}

// The message carries the store's rule exactly: the sets, a person
// qualifying only when in every one; groups and users are their union,
// for older clients. Through the API as through the conversion.
func TestRequirementShown(t *testing.T) {
	r := requirement(approval.Requirement{Approvals: 2, Approvers: []approval.Set{
		{Groups: []string{"security"}, Users: []string{"ann@example.com"}},
		{Groups: []string{"oncall", "security"}},
	}})
	want := &bollardv1.ApproverRequirement{
		Groups: []string{"security", "oncall"}, Users: []string{"ann@example.com"}, ApprovalsNeeded: 2,
		Sets: []*bollardv1.ApproverSet{
			{Groups: []string{"security"}, Users: []string{"ann@example.com"}},
			{Groups: []string{"oncall", "security"}},
		},
	}
	if !proto.Equal(r, want) {
		t.Errorf("requirement\n%v\nwant\n%v", prototext.Format(r), prototext.Format(want))
	}

	// bob is in both sets; ann in the first only: the union names her
	// group, the sets say she may not approve, and the store agrees.
	h := newHarness(t)
	a := h.create(t, 1, []string{approvers}, []string{"oncall"})
	resp, err := h.client.GetApproval(as(t.Context(), h.token(t, bob)), &bollardv1.GetApprovalRequest{ApprovalId: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	got := resp.GetApproval().GetApprovers()
	want = &bollardv1.ApproverRequirement{Groups: []string{approvers, "oncall"}, ApprovalsNeeded: 1,
		Sets: []*bollardv1.ApproverSet{{Groups: []string{approvers}}, {Groups: []string{"oncall"}}}}
	if !proto.Equal(got, want) {
		t.Errorf("GetApproval's approvers\n%v\nwant\n%v", prototext.Format(got), prototext.Format(want))
	}
	_, err = h.client.GetApproval(as(t.Context(), h.token(t, ann)), &bollardv1.GetApprovalRequest{ApprovalId: a.ID})
	wantStatus(t, err, codes.PermissionDenied, ReasonNotAnApprover)
}

// Page tokens are person input: whatever comes, the reader refuses what it
// did not issue, and never panics.
func FuzzReadPage(f *testing.F) {
	s, err := New(approval.New(), nopAuth{}, nopAuditor{})
	if err != nil {
		f.Fatal(err)
	}
	good := s.pageToken(ann.sub, 1<<uint(approval.Pending), approval.Approval{ID: "ap_X", Created: t0})
	f.Add(good)
	f.Add("")
	f.Add("AQIAAAAAAAAAAGFwX1g")
	f.Add(good[:len(good)-2])
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.readPage(tok, ann.sub, 1<<uint(approval.Pending))
		if err == nil && tok != good {
			t.Fatalf("%q read as %+v", tok, c)
		}
	})
}

type nopAuth struct{}

func (nopAuth) Authenticate(context.Context, string) (Approver, error) {
	return Approver{}, unauthenticated("missing", errors.New("none"))
}

type nopAuditor struct{}

func (nopAuditor) Write(context.Context, *audit.Record) error { return nil }

// An approval whose parameters cannot be shown is left out of listings
// and watches, and GetApproval fails on it: nobody approves a call they
// cannot see, and the others are still listed.
func TestUnshowableApproval(t *testing.T) {
	h := newHarness(t)
	bad, err := h.store.Create(approval.Request{Binding: approval.Binding{Agent: agentID, Action: "users.delete"},
		Params:      map[string]any{"userId": "\xff"},
		Requirement: approval.Requirement{Approvers: []approval.Set{{Groups: []string{approvers}}}, Approvals: 1, Reason: "r"}})
	if err != nil {
		t.Fatal(err)
	}
	h.clk.advance(time.Second)
	good := h.create(t, 1)
	ctx := as(t.Context(), h.token(t, ann))
	resp, err := h.client.ListApprovals(ctx, &bollardv1.ListApprovalsRequest{})
	if err != nil || !slices.Equal(ids(resp.GetApprovals()), []string{good.ID}) {
		t.Errorf("listed %v, %v; want the good one only", ids(resp.GetApprovals()), err)
	}
	_, err = h.client.GetApproval(ctx, &bollardv1.GetApprovalRequest{ApprovalId: bad.ID})
	wantStatus(t, err, codes.Internal, ReasonInternal)
	next(t, watch(t, h, h.token(t, ann)), good.ID, pending)
}
