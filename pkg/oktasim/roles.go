package oktasim

import (
	"encoding/base32"
	"fmt"
	"net/http"
	"sort"
	"time"
)

// Okta's standard admin role types, as role objects name them in type.
const (
	RoleSuperAdmin           = "SUPER_ADMIN"
	RoleOrgAdmin             = "ORG_ADMIN"
	RoleAppAdmin             = "APP_ADMIN"
	RoleUserAdmin            = "USER_ADMIN" // "Group Administrator" in the Admin Console
	RoleHelpDeskAdmin        = "HELP_DESK_ADMIN"
	RoleReadOnlyAdmin        = "READ_ONLY_ADMIN"
	RoleMobileAdmin          = "MOBILE_ADMIN"
	RoleAPIAccessMgmtAdmin   = "API_ACCESS_MANAGEMENT_ADMIN"
	RoleReportAdmin          = "REPORT_ADMIN"
	RoleGroupMembershipAdmin = "GROUP_MEMBERSHIP_ADMIN"
)

// roleLabels are the labels Okta gives the standard roles. Custom roles
// (type CUSTOM) need a resource set and are not simulated.
var roleLabels = map[string]string{
	RoleSuperAdmin:           "Super Administrator",
	RoleOrgAdmin:             "Organizational Administrator",
	RoleAppAdmin:             "Application Administrator",
	RoleUserAdmin:            "Group Administrator",
	RoleHelpDeskAdmin:        "Help Desk Administrator",
	RoleReadOnlyAdmin:        "Read-only Administrator",
	RoleMobileAdmin:          "Mobile Administrator",
	RoleAPIAccessMgmtAdmin:   "API Access Management Administrator",
	RoleReportAdmin:          "Report Administrator",
	RoleGroupMembershipAdmin: "Group Membership Administrator",
}

// roleAssignment is one standard role given to a user or a group. A user
// holds the roles assigned to it and those of every group it is in, as
// Okta's listAssignedRolesForUser reports them.
type roleAssignment struct {
	typ     string
	created time.Time
}

// roleID is the id Okta gives a standard role assignment: the role type in
// unpadded base32 (APP_ADMIN is IFIFAX2BIRGUSTQ in Okta's own examples).
// Derived rather than drawn from the id source, so that assigning roles
// never shifts the ids of objects created afterwards.
func roleID(typ string) string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte(typ))
}

func renderRole(ra *roleAssignment, assignmentType, assignee string) obj {
	return obj{
		{"id", roleID(ra.typ)},
		{"label", roleLabels[ra.typ]},
		{"type", ra.typ},
		{"status", objActive},
		{"created", ts(ra.created)},
		{"lastUpdated", ts(ra.created)},
		{"assignmentType", assignmentType},
		{"_links", obj{{"assignee", href(assignee)}}},
	}
}

// heldRole is a role a user holds: assigned to it (group empty) or to
// one of its groups.
type heldRole struct {
	*roleAssignment
	group string
}

// heldRoles lists the roles assigned to a user, then those it holds through
// its groups (in group id order). Callers hold s.mu.
func (s *Sim) heldRoles(userID string) []heldRole {
	var out []heldRole
	for _, ra := range s.userRoles[userID] {
		out = append(out, heldRole{roleAssignment: ra})
	}
	gids := make([]string, 0, len(s.groupRoles))
	for gid := range s.groupRoles {
		if g := s.groups[gid]; g != nil && g.members[userID] {
			gids = append(gids, gid)
		}
	}
	sort.Strings(gids)
	for _, gid := range gids {
		for _, ra := range s.groupRoles[gid] {
			out = append(out, heldRole{roleAssignment: ra, group: gid})
		}
	}
	return out
}

// listUserRoles is Okta's listAssignedRolesForUser. The endpoint takes only
// a user id, not a login, and is not paginated.
func (s *Sim) listUserRoles(c *call) (int, any, error) {
	u, ok := s.users[c.param(0)]
	if !ok {
		return 0, nil, errNotFound(c.param(0), "User")
	}
	out := []obj{}
	for _, r := range s.heldRoles(u.id) {
		if r.group == "" {
			out = append(out, renderRole(r.roleAssignment, "USER", c.base+"/api/v1/users/"+u.id))
		} else {
			out = append(out, renderRole(r.roleAssignment, "GROUP", c.base+"/api/v1/groups/"+r.group))
		}
	}
	return http.StatusOK, out, nil
}

// listGroupRoles is Okta's listGroupAssignedRoles: the roles assigned to a
// group (every member holds them). Not paginated; scope okta.roles.read.
func (s *Sim) listGroupRoles(c *call) (int, any, error) {
	g, err := s.groupOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	out := []obj{}
	for _, ra := range s.groupRoles[g.id] {
		out = append(out, renderRole(ra, "GROUP", c.base+"/api/v1/groups/"+g.id))
	}
	return http.StatusOK, out, nil
}

// assignRole adds a standard role to the assignments of one principal.
// Callers hold s.mu.
func assignRole(m map[string][]*roleAssignment, id, typ string, now time.Time) error {
	if _, ok := roleLabels[typ]; !ok {
		return fmt.Errorf("oktasim: unknown admin role type %q", typ)
	}
	for _, ra := range m[id] {
		if ra.typ == typ {
			return fmt.Errorf("oktasim: %s already has the %s role", id, typ)
		}
	}
	m[id] = append(m[id], &roleAssignment{typ: typ, created: now})
	return nil
}

func unassignRole(m map[string][]*roleAssignment, id, typ string) error {
	for i, ra := range m[id] {
		if ra.typ == typ {
			m[id] = append(m[id][:i:i], m[id][i+1:]...)
			if len(m[id]) == 0 {
				delete(m, id)
			}
			return nil
		}
	}
	return fmt.Errorf("oktasim: %s has no %s role", id, typ)
}

// AssignAdminRole gives a user a standard admin role (RoleSuperAdmin, ...),
// as POST /api/v1/users/{userId}/roles would. It records no System Log
// event. Assigning a role the user already has directly is an error, as
// at Okta.
func (s *Sim) AssignAdminRole(userID, roleType string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[userID]; !ok {
		return fmt.Errorf("oktasim: no user %q", userID)
	}
	return assignRole(s.userRoles, userID, roleType, s.now())
}

// UnassignAdminRole takes a directly assigned admin role from a user.
func (s *Sim) UnassignAdminRole(userID, roleType string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return unassignRole(s.userRoles, userID, roleType)
}

// AssignGroupAdminRole gives a group a standard admin role: every member
// then holds it, listed with assignmentType GROUP.
func (s *Sim) AssignGroupAdminRole(groupID, roleType string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.groups[groupID]; !ok {
		return fmt.Errorf("oktasim: no group %q", groupID)
	}
	return assignRole(s.groupRoles, groupID, roleType, s.now())
}

// UnassignGroupAdminRole takes an admin role from a group.
func (s *Sim) UnassignGroupAdminRole(groupID, roleType string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return unassignRole(s.groupRoles, groupID, roleType)
}

// AdminRoles returns the role types a user holds, directly or through its
// groups, in the order listAssignedRolesForUser lists them (a type held
// both ways appears twice).
func (s *Sim) AdminRoles(userID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.heldRoles(userID) {
		out = append(out, r.typ)
	}
	return out
}

// seedRoles makes the seed admin a super admin through a direct assignment
// and an org admin through Okta Admins, and Carol a help desk admin.
func (s *Sim) seedRoles(now time.Time, day time.Duration) {
	at := now.Add(-700 * day)
	s.userRoles[SeedUserAdmin] = []*roleAssignment{{typ: RoleSuperAdmin, created: at}}
	s.userRoles[SeedUserCarol] = []*roleAssignment{{typ: RoleHelpDeskAdmin, created: at.Add(300 * day)}}
	s.groupRoles[SeedGroupOktaAdmins] = []*roleAssignment{{typ: RoleOrgAdmin, created: at}}
}
