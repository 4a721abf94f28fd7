// Package target looks up, at Okta, the facts a policy needs about the
// objects a call changes, so that a rule can say "never touch a member of
// Okta Admins", "never change a super admin" or "never add anyone to a group
// that holds an admin role" about objects the agent names only by id, login
// or session.
//
// What a call changes comes from the catalog (catalog.Action.Effects): the
// users, groups, apps and policies its path, its body (a new user's
// groupIds, an app assignment's user, the people a policy applies to) or a
// session names. For each user Resolver.Facts reads its groups (every page
// up to a bound) and its admin roles (those assigned to it and to its
// groups); for each group, the admin roles it holds; for a session, whose
// session it is, and then that user. A user named by login is first
// resolved to its id, which is what the policy sees. Apps and policies are
// listed by id without a lookup. The lookups are not catalog actions:
// agents cannot call them and policies do not decide them.
//
// The sidecar asks for facts only after the first stage of the decision
// has allowed the call (pkg/gateway), so an agent without a grant causes no
// Okta request. Every lookup request carries the call's decision id in its
// User-Agent and is taken from the calling agent's request budget first
// (Lookup.Spend).
//
// Every failure fails closed: the object is reported with resolved false,
// empty lists and a short reason, a warning is logged with the decision id,
// and the shipped policy denies. A call that names more objects than
// MaxObjects, or names them in a form Bollard cannot follow, is not looked
// up at all and is unresolved. Answers are never cached, so a change of
// membership or role at Okta counts from the next call.
//
// With an OAuth 2.0 service app as Bollard's credential, the app must be
// granted okta.roles.read (used by no catalog action), okta.users.read and
// okta.sessions.read, and Bollard allowed to request them (Scopes);
// otherwise the lookups fail and the calls that need them are denied. An
// SSWS token acts with its admin's rights and needs nothing more.
package target
