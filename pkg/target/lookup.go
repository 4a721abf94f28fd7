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
	"github.com/bollard-dev/bollard/pkg/forward"
)

var (
	// errTooManyGroups is reported when a user is in more groups than the
	// resolver reads.
	errTooManyGroups = errors.New("the user is in more groups than the lookup reads")
	// errMalformed is an answer that is not what Okta sends.
	errMalformed = errors.New("malformed answer")
	// errUnusable is a reference that cannot name an object in a path.
	errUnusable = errors.New("the call names no usable id")
)

// reasonOf is the short reason an entry gives for a failed lookup.
func reasonOf(err error) string {
	var fe *forward.Error
	switch {
	case errors.Is(err, errBudget):
		return reasonBudget
	case errors.Is(err, errTooManyGroups):
		return reasonTooLarge
	case errors.Is(err, errUnusable):
		return reasonInvalid
	case errors.Is(err, errMalformed):
		return reasonMalformed
	case errors.Is(err, context.DeadlineExceeded):
		return reasonTimeout
	case errors.As(err, &fe):
		switch {
		case fe.Kind == forward.KindNotFound:
			return reasonNotFound
		case fe.Kind == forward.KindTimeout:
			return reasonTimeout
		}
	}
	return reasonOkta
}

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

// lookupCall builds the call for one lookup about the object named by
// param. Catalog validation already restricts ids and logins, but the path
// is escaped here regardless: this package must not depend on that to keep
// a lookup on its path.
func lookupCall(a *catalog.Action, param, id string, query url.Values) *catalog.Call {
	return &catalog.Call{
		Action:   a,
		Path:     strings.Replace(a.Path, "{"+param+"}", url.PathEscape(id), 1),
		Query:    query,
		Resource: map[string]string{param: id},
		Params:   map[string]any{},
		Lookup:   true,
	}
}

// sessionUser reads which user a session belongs to.
func (l *lookups) sessionUser(ctx context.Context, session string) (string, error) {
	if !usable(session) {
		return "", errUnusable
	}
	resp, err := l.do(ctx, lookupCall(catalog.LookupGetSession, "sessionId", session, url.Values{}))
	if err != nil {
		return "", err
	}
	var s struct {
		UserID string `json:"userId"`
	}
	if err := json.Unmarshal(resp.Body, &s); err != nil || s.UserID == "" {
		return "", fmt.Errorf("okta %s: %w: no userId", catalog.LookupGetSession.Name, errMalformed)
	}
	return s.UserID, nil
}

// userID resolves a login or short name to the user's id.
func (l *lookups) userID(ctx context.Context, ref string) (string, error) {
	resp, err := l.do(ctx, lookupCall(catalog.LookupGetUser, "userId", ref, url.Values{}))
	if err != nil {
		return "", err
	}
	var u struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(resp.Body, &u); err != nil {
		return "", fmt.Errorf("okta %s: %w: %w", catalog.LookupGetUser.Name, errMalformed, err)
	}
	if !usable(u.ID) {
		return "", fmt.Errorf("okta %s: %w: the answer has no usable user id", catalog.LookupGetUser.Name, errMalformed)
	}
	return u.ID, nil
}

// groups reads the ids of the user's groups, following Okta's next links,
// and fails once the user is in more than maxGroups.
func (l *lookups) groups(ctx context.Context, id string) ([]any, error) {
	seen := map[string]bool{}
	out := []any{}
	after := ""
	// Each page but the last adds at least one group, so this many pages
	// are enough to pass maxGroups; more means Okta is looping.
	maxPages := l.r.opts.maxGroups/catalog.LookupGroupsPageSize + 2
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("okta %s: more than %d pages", catalog.LookupUserGroups.Name, maxPages)
		}
		q := url.Values{"limit": {strconv.Itoa(catalog.LookupGroupsPageSize)}}
		if after != "" {
			q.Set("after", after)
		}
		resp, err := l.do(ctx, lookupCall(catalog.LookupUserGroups, "userId", id, q))
		if err != nil {
			return nil, err
		}
		var items []struct {
			ID string `json:"id"`
		}
		if err := decodeList(resp.Body, &items); err != nil {
			return nil, fmt.Errorf("okta %s: %w: %w", catalog.LookupUserGroups.Name, errMalformed, err)
		}
		for _, g := range items {
			if g.ID == "" {
				return nil, fmt.Errorf("okta %s: %w: a group without an id", catalog.LookupUserGroups.Name, errMalformed)
			}
			if !seen[g.ID] {
				seen[g.ID] = true
				out = append(out, g.ID)
			}
		}
		if len(out) > l.r.opts.maxGroups {
			return nil, fmt.Errorf("%w (%d)", errTooManyGroups, l.r.opts.maxGroups)
		}
		if resp.NextCursor == "" {
			return out, nil
		}
		if resp.NextCursor == after || len(items) == 0 {
			return nil, fmt.Errorf("okta %s: %w: the next page does not move on", catalog.LookupUserGroups.Name, errMalformed)
		}
		after = resp.NextCursor
	}
}

// roles reads the types of the admin roles a user holds (assigned to the
// user or to one of its groups) or a group holds, each once. A role listed
// INACTIVE counts too: over-protecting is the safe mistake.
func (l *lookups) roles(ctx context.Context, a *catalog.Action, param, id string) ([]any, error) {
	resp, err := l.do(ctx, lookupCall(a, param, id, url.Values{}))
	if err != nil {
		return nil, err
	}
	var items []struct {
		Type string `json:"type"`
	}
	if err := decodeList(resp.Body, &items); err != nil {
		return nil, fmt.Errorf("okta %s: %w: %w", a.Name, errMalformed, err)
	}
	seen := map[string]bool{}
	out := []any{}
	for _, role := range items {
		if role.Type == "" {
			return nil, fmt.Errorf("okta %s: %w: a role without a type", a.Name, errMalformed)
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
