// Package target looks up facts about the object of a call at Okta before
// the policy decides it, so that a rule can say "never deactivate a member of
// Okta Admins" or "never suspend a super admin" about a user the agent names
// only by id or login.
//
// For the actions that act destructively on one user (users.delete,
// user_lifecycle.deactivate, user_lifecycle.suspend and factors.unenroll)
// Resolver.Context reads the user's groups (GET /api/v1/users/{id}/groups,
// every page up to a bound) and admin roles (GET /api/v1/users/{id}/roles,
// those assigned to the user and to its groups) with Bollard's own
// credential, and returns them for input.context.target.user. A user named by
// login is first resolved to its id, which is what the policy sees. The
// lookups are not catalog actions: agents cannot call them and policies do
// not decide them.
//
// Every failure fails closed: the user is reported with resolved false and
// empty lists, a warning is logged with the decision id, and the shipped
// policy denies. Answers are never cached, so a change of membership or role
// at Okta counts from the next call.
//
// With an OAuth 2.0 service app as Bollard's credential, the app must be
// granted okta.roles.read (used by no catalog action) besides okta.users.read,
// and Bollard allowed to request both (Scopes); otherwise every lookup fails
// and the four actions are always denied. An SSWS token acts with its admin's
// rights and needs nothing more.
package target
