package target

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/forward"
)

// Doer sends a call to Okta with Bollard's credential; *forward.Client is
// the one used in production.
type Doer interface {
	Do(ctx context.Context, call *catalog.Call, decisionID string) (*forward.Response, error)
}

// userActions are the actions that act destructively on one user, named by
// their userId path parameter: the policy weighs the user's groups and admin
// roles before any of them goes to Okta.
var userActions = map[string]bool{
	"users.delete":              true,
	"user_lifecycle.deactivate": true,
	"user_lifecycle.suspend":    true,
	"factors.unenroll":          true,
}

// Needs reports whether Context looks anything up for the action.
func Needs(action string) bool { return userActions[action] }

// Resolver looks up facts about the target of a call at Okta.
type Resolver struct {
	c    Doer
	opts options
}

// New returns a resolver that looks targets up through c.
func New(c Doer, opts ...Option) *Resolver {
	o := defaultOptions
	for _, opt := range opts {
		opt(&o)
	}
	return &Resolver{c: c, opts: o}
}

// Context returns the target facts for the policy input's context.target:
// nil for actions that need none, otherwise
//
//	{"user": {"id": "00u...", "resolved": true, "groups": ["00g...", ...], "admin_roles": ["SUPER_ADMIN", ...]}}
//
// id is the user's Okta id even when the call named the user by login. When
// any lookup fails (Okta unreachable or slow, an error answer, a body that is
// not what Okta sends, a user in too many groups) resolved is false, the
// lists are empty, id is the userId of the call, and a warning is logged:
// the policy must then deny. Lists are []any of strings, ready for OPA.
//
// Nothing is cached: an agent could otherwise add a user to a protected
// group, or take an admin role away, and act on a stale answer within the
// cache's lifetime. Membership as Okta sees it at the moment of the call is
// the only safe answer, and two or three reads cost little beside a
// destructive call.
func (r *Resolver) Context(ctx context.Context, call *catalog.Call, decisionID string) map[string]any {
	if call == nil || call.Action == nil || !userActions[call.Action.Name] {
		return nil
	}
	ref := call.Resource["userId"]
	user, err := r.user(ctx, ref, decisionID)
	if err != nil {
		r.opts.logger.LogAttrs(ctx, slog.LevelWarn, "target lookup failed; the policy sees the user unresolved",
			slog.String("decision_id", decisionID), slog.String("action", call.Action.Name),
			slog.String("user_id", ref), slog.String("error", err.Error()))
		return map[string]any{"user": map[string]any{
			"id": ref, "resolved": false, "groups": []any{}, "admin_roles": []any{},
		}}
	}
	return map[string]any{"user": user}
}

// user looks up the user's id (when named by login), groups and roles.
func (r *Resolver) user(ctx context.Context, ref, decisionID string) (map[string]any, error) {
	if r.c == nil {
		return nil, errors.New("no Okta client")
	}
	if ref == "" || ref == "." || ref == ".." {
		// A dot segment survives escaping and a proxy may resolve it.
		return nil, errors.New("the call names no usable userId")
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.timeout)
	defer cancel()
	id := ref
	if !isUserID(ref) {
		var err error
		if id, err = r.userID(ctx, ref, decisionID); err != nil {
			return nil, err
		}
	}
	var (
		wg            sync.WaitGroup
		groups, roles []any
		gerr, rerr    error
	)
	// Groups may take several pages; roles are one request alongside.
	wg.Go(func() { groups, gerr = r.groups(ctx, id, decisionID) })
	roles, rerr = r.roles(ctx, id, decisionID)
	wg.Wait()
	if gerr != nil {
		return nil, gerr
	}
	if rerr != nil {
		return nil, rerr
	}
	return map[string]any{"id": id, "resolved": true, "groups": groups, "admin_roles": roles}, nil
}
