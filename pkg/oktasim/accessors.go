package oktasim

import (
	"fmt"
	"strings"
)

// Test-facing accessors. They read (or, for SetUserStatus, arrange) state
// directly, so a test can check the effect of a call without going through
// the API it is testing.

// UserStatus returns a user's status, false when the user does not exist.
func (s *Sim) UserStatus(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return "", false
	}
	return u.status, true
}

// SetUserStatus forces a user into a status, e.g. to lock a user out
// before testing unlock. It records no System Log event.
func (s *Sim) SetUserStatus(id, status string) error {
	switch status {
	case StatusStaged, StatusProvisioned, StatusActive, StatusRecovery, StatusLockedOut,
		StatusPasswordExpired, StatusSuspended, StatusDeprovisioned:
	default:
		return fmt.Errorf("oktasim: unknown user status %q", status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return fmt.Errorf("oktasim: no user %q", id)
	}
	u.setStatus(status, s.now())
	return nil
}

// UserExists reports whether a user exists (in any status).
func (s *Sim) UserExists(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.users[id]
	return ok
}

// IsGroupMember reports whether a user is a member of a group.
func (s *Sim) IsGroupMember(groupID, userID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[groupID]
	return ok && g.members[userID]
}

// GroupExists reports whether a group exists.
func (s *Sim) GroupExists(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.groups[id]
	return ok
}

// AppStatus returns an app's status (ACTIVE or INACTIVE), false when the app
// does not exist.
func (s *Sim) AppStatus(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[id]
	if !ok {
		return "", false
	}
	return a.status, true
}

// IsAppAssigned reports whether a user is assigned to an app.
func (s *Sim) IsAppAssigned(appID, userID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[appID]
	if !ok {
		return false
	}
	_, ok = a.users[userID]
	return ok
}

// SessionActive reports whether a session exists and has not expired.
func (s *Sim) SessionActive(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.sessionOr404(id, s.now())
	return err == nil
}

// PolicyStatus returns a policy's status, false when it does not exist.
func (s *Sim) PolicyStatus(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.policies[id]
	if !ok {
		return "", false
	}
	return p.status, true
}

// HasFactor reports whether a user has a factor enrolled.
func (s *Sim) HasFactor(userID, factorID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.factors[factorID]
	return ok && f.userID == userID
}

// AddGroup creates an OKTA_GROUP with the given members and returns its id,
// for tests that need many groups without a request per group. It records
// no System Log event.
func (s *Sim) AddGroup(name string, memberIDs ...string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range memberIDs {
		if _, ok := s.users[id]; !ok {
			return "", fmt.Errorf("oktasim: no user %q", id)
		}
	}
	for _, g := range s.groups {
		if g.typ == groupOkta && strings.EqualFold(g.name(), name) {
			return "", fmt.Errorf("oktasim: a group named %q exists", name)
		}
	}
	now := s.now()
	g := &group{id: s.newID(prefixGroup), typ: groupOkta, created: now, lastUpdated: now, lastMembershipUpdated: now,
		profile: map[string]any{"name": name, "description": nil}, objectClass: []string{"okta:user_group"}, members: map[string]bool{}}
	for _, id := range memberIDs {
		g.members[id] = true
	}
	s.groups[g.id] = g
	return g.id, nil
}

// AddGroupMember puts a user in a group, as PUT
// /api/v1/groups/{groupId}/users/{userId} would, without a request or a
// System Log event: for tests that need a user in a particular group.
func (s *Sim) AddGroupMember(groupID, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[groupID]
	if !ok {
		return fmt.Errorf("oktasim: no group %q", groupID)
	}
	if _, ok := s.users[userID]; !ok {
		return fmt.Errorf("oktasim: no user %q", userID)
	}
	g.members[userID] = true
	return nil
}
