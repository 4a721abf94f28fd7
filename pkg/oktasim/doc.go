// Package oktasim is an in-memory Okta org served over real HTTP, so that
// Bollard's tests and its dev mode talk to something that behaves like the
// Okta Management API without a network or a real tenant.
//
// The simulator implements every endpoint in Bollard's action catalog (users
// and their lifecycle, groups and memberships, applications and their users,
// sessions, policies and rules, MFA factors and the System Log), and the two
// lookups Bollard makes before a destructive call on a user (the user's groups
// and admin roles), with Okta's rules rather than a generic CRUD store: a user must be deactivated before a
// DELETE removes it, only an ACTIVE user can be suspended, only an INACTIVE app
// can be deleted, built-in and app groups are read-only, default policies
// cannot be deleted. Responses copy Okta's wire format: JSON shaped like Okta's
// objects (including fields Okta's typed SDKs do not model, so pass-through can
// be checked), Okta's error bodies and codes, X-Okta-Request-Id, a Date from
// the simulator's clock, X-Rate-Limit-* headers and 429s from per-endpoint-
// family buckets and from an optional limit on requests in flight
// (WithConcurrencyLimit). Every change is recorded as a System Log event whose
// client.userAgent.rawUserAgent is the request's User-Agent and whose actor is
// whoever authenticated the call.
//
// # Authentication
//
// The API takes "Authorization: SSWS <token>" (APIToken), which acts as the
// seed admin and ignores scopes, as at Okta. It also takes OAuth 2.0 access
// tokens of service apps registered with WithServiceApp. An app gets one at
// POST /oauth2/v1/token (TokenPath) with grant_type=client_credentials, a
// space-separated scope, and a Private Key JWT client assertion
// (client_assertion_type=ClientAssertionType): a JWT signed RS256 or ES256
// (RS/ES 384 and 512 too) whose kid names one of the app's public keys (a
// kid may be left out while the app has one key), with iss and sub the
// client id, aud exactly the request's origin plus TokenPath, an exp in the
// future and at most an hour away, and an optional jti that is then good for
// one token only. Failures answer as Okta's OAuth server does, with
// {"error", "error_description"}: 401 invalid_client for any fault in the
// client's authentication; 400 invalid_scope for a missing scope or one not
// granted to the app; 400 unsupported_grant_type, unauthorized_client (a
// known grant other than client_credentials) or invalid_request (no grant
// type, a repeated parameter, a body not form-encoded). A token is an opaque
// random string that lasts the app's TokenTTL (an hour by default) on the
// simulator's clock; the response is {"token_type", "expires_in",
// "access_token", "scope"} with the requested scopes, deduplicated.
//
// Every route requires one scope of an access token (okta.users.read for
// reading users, their groups and factors, okta.users.manage for user,
// lifecycle and factor writes, and likewise okta.groups.*, okta.apps.* (app
// users included), okta.sessions.*, okta.policies.*, okta.logs.read, and
// okta.roles.read for a user's admin roles); a manage scope does
// not stand in for read, as Okta's API lists one scope per operation. A token
// that is unknown or expired gets 401 E0000011 with a WWW-Authenticate
// error="invalid_token" challenge; one without the scope gets 403 E0000006
// with error="insufficient_scope" naming the scope, checked before the
// objects in the path are looked at.
//
// An app with RequireDPoP gets DPoP-bound tokens (RFC 9449). Its token
// request must carry a DPoP proof (typ dpop+jwt, an asymmetric alg, the
// public jwk in the header, htm POST, htu the token URL, iat within five
// minutes, a fresh jti): without one it gets 400 invalid_dpop_proof, and a
// proof without a current nonce gets 400 use_dpop_nonce with a DPoP-Nonce
// header, as at Okta; a nonce lasts ten minutes. The token is bound to the
// proof key's thumbprint and answered with token_type DPoP. API calls must
// then send "Authorization: DPoP <token>" and a proof signed by that key with
// htm, htu (the URL without its query; the path is compared decoded, like
// Okta) and ath (the token's SHA-256); anything else is 401 E0000011 with a
// WWW-Authenticate: DPoP error="invalid_dpop_proof" challenge. A DPoP token
// sent as Bearer, or a Bearer token sent as DPoP, is refused. API calls only
// demand a nonce with WithResourceDPoPNonce, the same way (401, use_dpop_nonce,
// DPoP-Nonce); otherwise a nonce in a resource proof is ignored.
//
// Requests records, for each request, the scheme presented, the app and the
// scopes of a valid token, and the User-Agent.
//
// # Pagination
//
// List endpoints page with opaque after cursors in rel="next" Link headers:
// base64url of the position (the last id of the page, or a System Log
// sequence number) and an HMAC over it and the list's path under a random
// per-Sim secret. A cursor that was not issued for that list is 400 E0000001
// naming after. Positions are keys, not offsets, so a walk neither repeats
// nor skips objects that exist throughout when others are created or deleted
// meanwhile. Users sit in a sorted id index with a login index beside it, so
// a page costs a binary search and the page however large the org;
// WithExtraUsers adds many users cheaply (ExtraUserID, ExtraUserLogin).
//
// # Event hooks
//
// Okta pushes System Log events to event hooks, and so does the simulator.
// RegisterEventHook registers one the way an admin does: it performs Okta's
// one-time verification at once (a GET to the hook's URL carrying
// X-Okta-Verification-Challenge and the hook's headers, which must be
// answered 200 with {"verification": <the challenge>}) and registers the
// hook ACTIVE and VERIFIED only if that succeeds; otherwise the error wraps
// ErrHookVerification and says why. Okta's management endpoints do the same
// over HTTP (/api/v1/eventHooks: create, list, get, lifecycle/verify,
// activate and deactivate, and DELETE of an INACTIVE hook, with scopes
// okta.eventHooks.manage and okta.eventHooks.read); a hook created there is
// ACTIVE but UNVERIFIED, and gets nothing until it is verified. They are not
// in Bollard's catalog: Bollard receives hooks, it does not manage them.
// Okta demands HTTPS hook URLs; the simulator also takes plain http to a
// loopback host, where test and dev-mode receivers listen.
//
// Each System Log event of a type an active, verified hook subscribes to is
// POSTed to it in Okta's envelope (eventType com.okta.event_hook, the event
// in data.events), with the hook's headers and Content-Type
// application/json. Every change the API records counts, and so does a
// sign-in: StartSession stands in for Okta's sign-in page and records
// user.session.start. Delivery is asynchronous and never holds up the API
// call: each hook has a bounded queue (WithEventHookQueue) drained in
// System Log order by a goroutine of its own, and an event that finds the
// queue full is dropped and counted. As at Okta, an attempt times out
// after three seconds (WithEventHookTimeout) and a failed or timed-out
// delivery is tried once more; a 4xx is the receiver refusing it and is
// not retried. WithEventHookDelay holds deliveries back and
// WithEventHookDuplicates sends some twice, so that a receiver's handling
// of lag and de-duplication can be tested. EventHookStats counts what
// happened per hook; FlushEventHooks waits until every queued delivery is
// done, and Close stops delivery, dropping what has not started and
// waiting for what has.
//
// # Use
//
// Tests reach it through Handler behind httptest; dev mode uses Serve on a
// loopback address. Ids and timestamps are deterministic given the clock
// (WithClock), the seed data has exported ids (SeedUserAlice, SeedGroupEngineering,
// ...), and InjectFault makes Okta fail, stall or reject on demand. Admin
// roles are given to users and groups with AssignAdminRole and
// AssignGroupAdminRole (standard roles only; the seed admin is a super admin);
// AddGroup makes many groups cheaply. All state
// sits behind one mutex, held only briefly around signature checks, so the
// simulator favours obvious correctness over throughput.
package oktasim
