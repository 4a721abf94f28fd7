package target

import (
	"context"
	"errors"
	"fmt"
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

// Needs reports whether the call touches an object whose facts only Okta
// knows: a user (its groups and admin roles), a group (its admin roles) or
// a session (whose user it is). Apps and policies are protected by id and
// need no lookup. Reads touch nothing.
func Needs(call *catalog.Call) bool {
	if call == nil || call.Action == nil || call.Action.Access != catalog.Manage {
		return false
	}
	refs, problem := callRefs(call)
	if problem != "" {
		return false // nothing will be looked up: the target is unresolved
	}
	for _, rf := range refs {
		if rf.kind == catalog.EffectUser || rf.kind == catalog.EffectGroup {
			return true
		}
	}
	return false
}

// Lookup is what one call's lookups carry besides the call.
type Lookup struct {
	// DecisionID goes in the User-Agent of every Okta request, as for the
	// call itself.
	DecisionID string
	// Spend is called before each Okta request: the lookups count against
	// the calling agent's request budget. An error stops them and is
	// returned by Facts. Nil spends nothing.
	Spend func() error
}

// Resolver looks up facts about the objects of a call at Okta.
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

// Facts returns the facts for the policy input's context.target: nil for
// a call that changes nothing (a read), otherwise every object the call's
// effects name (catalog.Action.Effects), by kind:
//
//	{"resolved": true,
//	 "users":    [{"id": "00u...", "ref": "alice@example.com", "from": "path", "name": "userId",
//	               "resolved": true, "groups": ["00g...", ...], "admin_roles": ["SUPER_ADMIN", ...]}],
//	 "groups":   [{"id": "00g...", "from": "body", "name": "groupIds", "resolved": true, "admin_roles": [...]}],
//	 "apps":     [{"id": "0oa...", "from": "path", "name": "appId"}],
//	 "policies": [{"id": "00p...", "from": "path", "name": "policyId"}],
//	 "user":     <the users entry named by the path or a session, when there is one>}
//
// id is the object's Okta id: a user named by login, or by a session, is
// looked up first. A user named by a session also has "session". When any
// lookup fails (Okta unreachable or slow, an error answer, a body that is
// not what Okta sends, a user in too many groups, an id that cannot be
// used) that entry has resolved false, empty lists and a short "reason",
// the top-level resolved is false, and a warning is logged with the
// decision id: the policy must then deny. Lists are []any of strings, ready
// for OPA.
//
// Facts returns an error only when lk.Spend refuses a lookup (the agent's
// budget is spent); the call must then fail with that error.
//
// Nothing is cached: an agent could otherwise add a user to a protected
// group, or take an admin role away, and act on a stale answer within the
// cache's lifetime. Membership as Okta sees it at the moment of the call is
// the only safe answer.
func (r *Resolver) Facts(ctx context.Context, call *catalog.Call, lk Lookup) (map[string]any, error) {
	if call == nil || call.Action == nil || call.Action.Access != catalog.Manage {
		return nil, nil
	}
	refs, problem := callRefs(call)
	f := newFacts()
	if problem != "" {
		r.opts.logger.LogAttrs(ctx, slog.LevelWarn, "target lookup refused; the policy sees the target unresolved",
			slog.String("decision_id", lk.DecisionID), slog.String("action", call.Action.Name), slog.String("reason", problem))
		f.unresolvedAll(refs, problem)
		return f.out(), nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.timeout)
	defer cancel()
	l := &lookups{r: r, lk: lk, action: call.Action.Name, cancel: cancel}
	entries := make([]map[string]any, len(refs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxParallel)
	for i, rf := range refs {
		switch rf.kind {
		case catalog.EffectApp, catalog.EffectPolicy:
			entries[i] = rf.entry()
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			entries[i] = l.resolve(ctx, rf)
		})
	}
	wg.Wait()
	if err := l.refusal(); err != nil {
		return nil, err
	}
	for i, rf := range refs {
		f.add(rf, entries[i])
	}
	return f.out(), nil
}

// maxParallel bounds the lookups one call runs at once.
const maxParallel = 4

// lookups is the state one call's lookups share.
type lookups struct {
	r      *Resolver
	lk     Lookup
	action string
	cancel context.CancelFunc

	mu      sync.Mutex
	refused error // from Spend: the lookups stop
}

// spend takes one request from the agent's budget; once refused, every
// later lookup is refused too and the others are canceled.
func (l *lookups) spend() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.refused != nil {
		return l.refused
	}
	if l.lk.Spend == nil {
		return nil
	}
	if err := l.lk.Spend(); err != nil {
		l.refused = err
		l.cancel()
		return err
	}
	return nil
}

func (l *lookups) refusal() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.refused
}

// do sends one lookup, spending from the budget first.
func (l *lookups) do(ctx context.Context, call *catalog.Call) (*forward.Response, error) {
	if err := l.spend(); err != nil {
		return nil, fmt.Errorf("%w: %w", errBudget, err)
	}
	return l.r.c.Do(ctx, call, l.lk.DecisionID)
}

var errBudget = errors.New("agent budget spent")

// resolve looks one user or group up, and reports a failure inside the
// entry it returns.
func (l *lookups) resolve(ctx context.Context, rf ref) map[string]any {
	var (
		e   map[string]any
		err error
	)
	if l.r.c == nil {
		err = errors.New("no Okta client")
	} else if rf.kind == catalog.EffectGroup {
		e, err = l.group(ctx, rf)
	} else {
		e, err = l.user(ctx, rf)
	}
	if err == nil {
		return e
	}
	if !errors.Is(err, errBudget) {
		l.r.opts.logger.LogAttrs(ctx, slog.LevelWarn, "target lookup failed; the policy sees the target unresolved",
			slog.String("decision_id", l.lk.DecisionID), slog.String("action", l.action),
			slog.String("kind", string(rf.kind)), slog.String("ref", rf.value), slog.String("error", err.Error()))
	}
	return rf.unresolved(reasonOf(err))
}

// user looks up a user's id (when named by login or session), groups and
// roles.
func (l *lookups) user(ctx context.Context, rf ref) (map[string]any, error) {
	id, session := rf.value, ""
	if rf.from == catalog.FromSession {
		session = rf.value
		var err error
		if id, err = l.sessionUser(ctx, session); err != nil {
			return nil, err
		}
	}
	if !usable(id) {
		return nil, errUnusable
	}
	if !isUserID(id) {
		var err error
		if id, err = l.userID(ctx, id); err != nil {
			return nil, err
		}
	}
	var (
		wg            sync.WaitGroup
		groups, roles []any
		gerr, rerr    error
	)
	// Groups may take several pages; roles are one request alongside.
	wg.Go(func() { groups, gerr = l.groups(ctx, id) })
	roles, rerr = l.roles(ctx, catalog.LookupUserRoles, "userId", id)
	wg.Wait()
	if err := errors.Join(gerr, rerr); err != nil {
		return nil, err
	}
	e := rf.entry()
	e["id"], e["resolved"], e["groups"], e["admin_roles"] = id, true, groups, roles
	if session != "" {
		e["session"] = session
	}
	return e, nil
}

// group looks up the admin roles assigned to a group.
func (l *lookups) group(ctx context.Context, rf ref) (map[string]any, error) {
	if !usable(rf.value) {
		return nil, errUnusable
	}
	roles, err := l.roles(ctx, catalog.LookupGroupRoles, "groupId", rf.value)
	if err != nil {
		return nil, err
	}
	e := rf.entry()
	e["resolved"], e["admin_roles"] = true, roles
	return e, nil
}

// facts collects the entries of one call.
type facts struct {
	resolved                      bool
	users, groups, apps, policies []any
	user                          map[string]any
}

func newFacts() *facts {
	return &facts{resolved: true, users: []any{}, groups: []any{}, apps: []any{}, policies: []any{}}
}

func (f *facts) add(rf ref, e map[string]any) {
	if r, ok := e["resolved"].(bool); ok && !r {
		f.resolved = false
	}
	switch rf.kind {
	case catalog.EffectUser:
		f.users = append(f.users, e)
		if f.user == nil && rf.from != catalog.FromBody {
			f.user = e
		}
	case catalog.EffectGroup:
		f.groups = append(f.groups, e)
	case catalog.EffectApp:
		f.apps = append(f.apps, e)
	case catalog.EffectPolicy:
		f.policies = append(f.policies, e)
	}
}

// unresolvedAll reports every object unresolved, when the call's references
// cannot be looked up at all.
func (f *facts) unresolvedAll(refs []ref, reason string) {
	for _, rf := range refs {
		f.add(rf, rf.unresolved(reason))
	}
	f.resolved = false
}

func (f *facts) out() map[string]any {
	m := map[string]any{"resolved": f.resolved, "users": f.users, "groups": f.groups, "apps": f.apps, "policies": f.policies}
	if f.user != nil {
		m["user"] = f.user
	}
	return m
}
