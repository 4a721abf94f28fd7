package oktasim

import (
	"net/http"
)

// The user lifecycle endpoints enforce Okta's state machine. The status
// codes and error bodies for a transition from the wrong status are Okta's:
//
//	activate   STAGED, DEPROVISIONED -> ACTIVE (or PROVISIONED without a password); else 403 E0000016
//	deactivate any but DEPROVISIONED -> DEPROVISIONED; a DEPROVISIONED user is 404 E0000007
//	reactivate PROVISIONED -> PROVISIONED (new activation token); else 403 E0000038
//	suspend    ACTIVE -> SUSPENDED; else 400 E0000001
//	unsuspend  SUSPENDED -> ACTIVE; else 400 E0000001
//	unlock     LOCKED_OUT -> ACTIVE; else 403 E0000032
//
// A successful transition answers 200 with {} (or an activation token when
// sendEmail=false), as Okta does.

func (s *Sim) activateUser(c *call) (int, any, error) {
	u, err := s.userOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	sendEmail, err := c.boolQuery("sendEmail", true)
	if err != nil {
		return 0, nil, err
	}
	if u.status != StatusStaged && u.status != StatusDeprovisioned {
		return 0, nil, newError(http.StatusForbidden, CodeAlreadyActive, "Activation failed because the user is already active")
	}
	if u.hasPassword || u.provider == "FEDERATION" {
		u.setStatus(StatusActive, c.now)
	} else {
		u.setStatus(StatusProvisioned, c.now)
	}
	s.record(c, "user.lifecycle.activate", "Activate Okta user", u.target())
	return http.StatusOK, s.activationResponse(c, sendEmail), nil
}

func (s *Sim) reactivateUser(c *call) (int, any, error) {
	u, err := s.userOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	sendEmail, err := c.boolQuery("sendEmail", true)
	if err != nil {
		return 0, nil, err
	}
	if u.status != StatusProvisioned {
		return 0, nil, newError(http.StatusForbidden, CodeUserStatus, "This operation is not allowed in the user's current status.")
	}
	u.setStatus(StatusProvisioned, c.now)
	s.record(c, "user.lifecycle.reactivate", "Reactivate Okta user", u.target())
	return http.StatusOK, s.activationResponse(c, sendEmail), nil
}

// activationResponse is {} when Okta emails the user, or the activation
// token and URL when the caller asked to deliver it itself.
func (s *Sim) activationResponse(c *call, sendEmail bool) obj {
	if sendEmail {
		return obj{}
	}
	token := s.marker + s.requestID.chars(20)
	return obj{{"activationUrl", c.base + "/welcome/" + token}, {"activationToken", token}}
}

func (s *Sim) deactivateUser(c *call) (int, any, error) {
	u, err := s.userOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	if _, err := c.boolQuery("sendEmail", false); err != nil {
		return 0, nil, err
	}
	if u.status == StatusDeprovisioned {
		// Okta answers as if a deactivated user were not there.
		return 0, nil, errNotFound(u.id, "User")
	}
	s.deactivate(c, u)
	return http.StatusOK, obj{}, nil
}

// deactivate moves a user to DEPROVISIONED and ends its sessions: a
// deactivated user is signed out everywhere.
func (s *Sim) deactivate(c *call, u *user) {
	u.setStatus(StatusDeprovisioned, c.now)
	s.endUserSessions(u.id)
	s.record(c, "user.lifecycle.deactivate", "Deactivate Okta user", u.target())
}

func (s *Sim) suspendUser(c *call) (int, any, error) {
	u, err := s.userOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	if u.status != StatusActive {
		return 0, nil, errValidation("suspendUser", "Cannot suspend a user that is not active")
	}
	u.setStatus(StatusSuspended, c.now)
	s.endUserSessions(u.id)
	s.record(c, "user.lifecycle.suspend", "Suspend Okta user", u.target())
	return http.StatusOK, obj{}, nil
}

func (s *Sim) unsuspendUser(c *call) (int, any, error) {
	u, err := s.userOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	if u.status != StatusSuspended {
		return 0, nil, errValidation("unsuspendUser", "Cannot unsuspend a user that is not suspended")
	}
	u.setStatus(StatusActive, c.now)
	s.record(c, "user.lifecycle.unsuspend", "Unsuspend Okta user", u.target())
	return http.StatusOK, obj{}, nil
}

func (s *Sim) unlockUser(c *call) (int, any, error) {
	u, err := s.userOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	if u.status != StatusLockedOut {
		return 0, nil, newError(http.StatusForbidden, CodeUnlockForbidden, "Unlock is not allowed for this user.", "The user is not locked out.")
	}
	u.setStatus(StatusActive, c.now)
	s.record(c, "user.account.unlock", "Unlock user account", u.target())
	return http.StatusOK, obj{}, nil
}
