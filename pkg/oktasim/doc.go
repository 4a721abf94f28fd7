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
// # The people's authorization server
//
// Bollard's approvers are people, who authenticate with JWTs from the
// company's identity provider (docs/approvals.md). WithPeopleAuthServer
// makes the simulator that provider: a custom authorization server like an
// Okta org's "default" one, at /oauth2/default (PeopleAuthServerPath), whose
// issuer is the request's origin plus that path. It serves
// /.well-known/openid-configuration (and the same document as
// oauth-authorization-server), listing only what it serves:
// response_types_supported ["code"], grant_types_supported
// ["authorization_code"], code_challenge_methods_supported ["S256"],
// token_endpoint_auth_methods_supported ["none"], scopes openid, profile
// and email, RS256, end_session_endpoint; /v1/keys, the JWKS of one RSA
// key generated at New (kid its JWK thumbprint); /v1/authorize;
// /v1/token; and /v1/logout. These endpoints
// are public, as at Okta; anything else under /oauth2/{authServerId} is a
// 404, and with no WithPeopleAuthServer the server does not exist. They
// have one rate-limit bucket, BucketAuthServer, and answer CORS from the
// origins of the registered redirect URIs, Okta's trusted origins.
//
// Its clients are PeopleClients: public apps (no secret) that must use
// PKCE, such as a single-page console, given to WithPeopleAuthServer or
// registered later with RegisterPeopleClient (an app whose redirect URI is
// known only once it listens). GET /v1/authorize checks the request
// in Okta's order: an unknown client_id or a redirect_uri that is not one
// of the client's, compared exactly, gets a 400 HTML page; any other fault
// is redirected to the client with error, error_description and the state
// (state and response_type=code required, scope of openid, profile and
// email including openid, code_challenge with code_challenge_method S256,
// no parameter repeated or longer than 2048 bytes, prompt none, login or
// consent). A browser that signed in before and still has its session
// (PeopleSessionCookie) goes straight back with a code, as at Okta,
// unless prompt=login; prompt=none without one is answered
// login_required. Any other good request gets a sign-in page: server-rendered HTML with no script and no external asset,
// a Content-Security-Policy (default-src 'none', its style by hash,
// form-action itself and the redirect URI's origin), and the request in
// hidden fields beside Okta's widget ids (okta-signin-username, -password,
// -submit), so that the form's POST carries everything and needs no
// cookie. The user signs in with their login and the one dev password,
// DefaultPeoplePassword or WithPeoplePassword's; an empty one is never
// accepted. Only an ACTIVE user with a password signs in; a wrong password,
// an unknown login or any other status shows the page again with Okta's
// "Unable to sign in". There is no MFA and no lockout. A sign-in opens a
// session, records user.session.start (a known user's failure too),
// remembers the browser by PeopleSessionCookie until the session ends
// (its idle lifetime, its revocation, the user's suspension or
// deactivation, or /v1/logout), then redirects with a code and the state.
//
// POST /v1/token takes grant_type=authorization_code with client_id,
// code, redirect_uri and code_verifier. The code lasts PeopleCodeTTL (60
// seconds) on the simulator's clock, is bound to its client, redirect URI
// and PKCE challenge, and is used up by the first attempt to redeem it,
// whatever the outcome; the user must still be ACTIVE. Failures answer
// as Okta's: 401 invalid_client for an unknown client or one that sends
// credentials (a secret, an assertion, Basic); 400 invalid_grant,
// unsupported_grant_type, unauthorized_client or invalid_request. The
// answer is {"token_type": "Bearer", "expires_in": 3600, "access_token",
// "scope", "id_token"}, and the grants are logged
// (app.oauth2.as.token.grant.access_token and .id_token).
//
// GET /v1/logout is OpenID Connect RP-initiated logout, as Okta's: it
// takes id_token_hint (required: an unexpired ID token of this server for
// one of its clients), post_logout_redirect_uri (optional: one of that
// client's PostLogoutRedirectURIs, compared exactly) and state. A request
// that breaks any of these gets a 400 page and ends nothing: the endpoint
// is no open redirect. Otherwise the browser's session ends when it is the
// token's subject's (user.session.end, the cookie cleared), and the
// browser goes to post_logout_redirect_uri with the state, or is shown a
// page that says it signed out.
//
// Both tokens are RS256 JWTs with a kid, lasting PeopleTokenTTL (an hour).
// The access token has Okta's claims ver, jti ("AT.…"), iss, aud (the
// configured audience, DefaultPeopleAudience when none), iat, exp, cid,
// uid (the user's id, 00u…), scp, auth_time and sub, which is the user's
// login as Okta's default sub claim (appuser.userName) makes it, then the
// custom claims an admin would add for Bollard: email, and groups, the
// names of all the user's groups, sorted, read when the token is issued so
// that a membership change shows in the next token. The ID token has sub
// (the user's id), name and preferred_username with scope profile, email
// and email_verified with scope email, ver, iss, aud (the client id), iat,
// exp, jti ("ID.…"), amr ["pwd"], idp, nonce when the request had one,
// auth_time, at_hash, and groups. Neither is accepted by the Management
// API. PersonToken signs an access token for an ACTIVE user exactly so,
// without a sign-in, for tests and dev mode; its issuer is the org URL
// (Serve's address, or SetOrgURL's for an httptest server).
//
// Not served: userinfo, introspection, revocation, logout, refresh tokens,
// the implicit flow, consent and confidential clients.
//
// The seed has two people for approvals: Sam Singh and Tess Turner, ACTIVE
// security engineers in the group security-approvers (the one the shipped
// approval policy names), holding no admin role.
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
