package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

// The Okta operations the resolver calls. They are Bollard's own reads,
// never an agent's: the actions are deliberately not registered in the
// catalog, so no agent can name them, no grant covers them and no policy
// decides them. forward.Client sends them like any catalog read (same
// credential, rate-limit buckets, retries, metrics under these names).
var (
	getUserAction = &catalog.Action{
		Name: "target.get_user", Area: "target", Access: catalog.Read, Scope: scopeUsersRead,
		Method: "GET", Path: "/api/v1/users/{userId}",
	}
	userGroupsAction = &catalog.Action{
		Name: "target.user_groups", Area: "target", Access: catalog.Read, Scope: scopeUsersRead,
		Method: "GET", Path: "/api/v1/users/{userId}/groups", MaxLimit: groupsPageSize,
	}
	userRolesAction = &catalog.Action{
		Name: "target.user_roles", Area: "target", Access: catalog.Read, Scope: scopeRolesRead,
		Method: "GET", Path: "/api/v1/users/{userId}/roles",
	}
)

const (
	scopeUsersRead = "okta.users.read"
	scopeRolesRead = "okta.roles.read"
	// groupsPageSize is Okta's maximum (and default) page of listUserGroups.
	groupsPageSize = 200
)

// Scopes returns the OAuth scopes the lookups need, sorted. An OAuth service
// app must be granted them, and Bollard allowed to request them, beside the
// scopes of the catalog; okta.roles.read is used by no catalog action.
func Scopes() []string { return []string{scopeRolesRead, scopeUsersRead} }

// errTooManyGroups is reported when a user is in more groups than the
// resolver reads.
var errTooManyGroups = errors.New("the user is in more groups than the lookup reads")

// isUserID reports whether ref has the shape of an Okta user id ("00u" and
// 17 more id characters). Okta looks a reference up as an id first, so such
// a ref is used as is; a login or short name is resolved to the id first,
// because the roles endpoint takes ids only and policies match ids.
func isUserID(ref string) bool {
	if len(ref) != 20 || ref[:3] != "00u" {
		return false
	}
	for i := 3; i < len(ref); i++ {
		c := ref[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// lookupCall builds the call for one lookup about user id. Catalog
// validation already restricts ids and logins, but the path is escaped here
// regardless: this package must not depend on that to keep a lookup on its
// path.
func lookupCall(a *catalog.Action, id string, query url.Values) *catalog.Call {
	return &catalog.Call{
		Action:   a,
		Path:     strings.Replace(a.Path, "{userId}", url.PathEscape(id), 1),
		Query:    query,
		Resource: map[string]string{"userId": id},
		Params:   map[string]any{},
	}
}

// userID resolves a login or short name to the user's id.
func (r *Resolver) userID(ctx context.Context, ref, decisionID string) (string, error) {
	resp, err := r.c.Do(ctx, lookupCall(getUserAction, ref, url.Values{}), decisionID)
	if err != nil {
		return "", err
	}
	var u struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(resp.Body, &u); err != nil {
		return "", fmt.Errorf("okta %s: malformed answer: %w", getUserAction.Name, err)
	}
	if u.ID == "" || u.ID == "." || u.ID == ".." {
		return "", fmt.Errorf("okta %s: the answer has no usable user id", getUserAction.Name)
	}
	return u.ID, nil
}

// groups reads the ids of the user's groups, following Okta's next links,
// and fails once the user is in more than maxGroups.
func (r *Resolver) groups(ctx context.Context, id, decisionID string) ([]any, error) {
	seen := map[string]bool{}
	out := []any{}
	after := ""
	// Each page but the last adds at least one group, so this many pages
	// are enough to pass maxGroups; more means Okta is looping.
	maxPages := r.opts.maxGroups/groupsPageSize + 2
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("okta %s: more than %d pages", userGroupsAction.Name, maxPages)
		}
		q := url.Values{"limit": {strconv.Itoa(groupsPageSize)}}
		if after != "" {
			q.Set("after", after)
		}
		resp, err := r.c.Do(ctx, lookupCall(userGroupsAction, id, q), decisionID)
		if err != nil {
			return nil, err
		}
		var items []struct {
			ID string `json:"id"`
		}
		if err := decodeList(resp.Body, &items); err != nil {
			return nil, fmt.Errorf("okta %s: malformed answer: %w", userGroupsAction.Name, err)
		}
		for _, g := range items {
			if g.ID == "" {
				return nil, fmt.Errorf("okta %s: a group without an id", userGroupsAction.Name)
			}
			if !seen[g.ID] {
				seen[g.ID] = true
				out = append(out, g.ID)
			}
		}
		if len(out) > r.opts.maxGroups {
			return nil, fmt.Errorf("%w (%d)", errTooManyGroups, r.opts.maxGroups)
		}
		if resp.NextCursor == "" {
			return out, nil
		}
		if resp.NextCursor == after || len(items) == 0 {
			return nil, fmt.Errorf("okta %s: the next page does not move on", userGroupsAction.Name)
		}
		after = resp.NextCursor
	}
}

// roles reads the types of the user's admin roles, whether assigned to the
// user or to one of its groups, each once. A role listed INACTIVE counts
// too: over-protecting a user is the safe mistake.
func (r *Resolver) roles(ctx context.Context, id, decisionID string) ([]any, error) {
	resp, err := r.c.Do(ctx, lookupCall(userRolesAction, id, url.Values{}), decisionID)
	if err != nil {
		return nil, err
	}
	var items []struct {
		Type string `json:"type"`
	}
	if err := decodeList(resp.Body, &items); err != nil {
		return nil, fmt.Errorf("okta %s: malformed answer: %w", userRolesAction.Name, err)
	}
	seen := map[string]bool{}
	out := []any{}
	for _, role := range items {
		if role.Type == "" {
			return nil, fmt.Errorf("okta %s: a role without a type", userRolesAction.Name)
		}
		if !seen[role.Type] {
			seen[role.Type] = true
			out = append(out, role.Type)
		}
	}
	return out, nil
}

// decodeList decodes a JSON array; null, which would decode to a nil
// slice without complaint, is not a list Okta sends.
func decodeList[T any](body []byte, into *[]T) error {
	if err := json.Unmarshal(body, into); err != nil {
		return err
	}
	if *into == nil {
		return errors.New("not a JSON array")
	}
	return nil
}
