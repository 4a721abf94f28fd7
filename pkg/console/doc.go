// Package console is the approvers' web console (issue 17): the people
// policy names sign in with their identity provider, see the agents' calls
// that wait for them, and approve or deny them, with a reason for a
// denial. It is an http.Handler served under /approvals/ (the sidecar's
// admin listener), made of server-rendered pages (html/template, the
// templates and one style sheet embedded in the binary): no script, no
// CDN, nothing loaded from elsewhere.
//
// It decides nothing itself. Every list, read and vote goes through the
// approvers' service in process (approvers.Server's PendingFor,
// ApprovalFor, ApproveAs, DenyAs): the same rules of who may see and
// decide, the same audit record written before a vote counts (detail.via
// "console"), the same errors, shown as their fixed sentences.
//
// # Sign-in
//
// OpenID Connect authorization code with PKCE (S256), as a public client:
// the console reads the issuer's discovery document, sends the browser to
// its authorization endpoint with a random state, nonce and code
// challenge, and at /approvals/callback exchanges the code (with the
// verifier) at the token endpoint. The access token is verified by the
// approvers' Authenticator, exactly as the gRPC service verifies it
// (issuer, audience, keys, agents refused), and then forgotten: the
// session holds the verified Approver, never the access token, and ends
// at the token's exp. The state is single-use, expires after 10 minutes,
// and is bound to the browser that started the sign-in by a pre-login
// cookie (HttpOnly, Secure, SameSite=Lax so that it comes back on the
// identity provider's redirect, Path=/approvals/callback) whose hash the
// pending sign-in keeps.
//
// The ID token is used for one thing: ending the provider's session at
// sign-out. Its claims are checked against the sign-in (issuer, the
// console as audience, the nonce, exp; not its signature: it comes
// straight from the token endpoint over TLS, and no identity is taken
// from it), it is at most 16 KiB, and the session keeps it only when the
// provider has an end-session endpoint, ending no later than it does.
//
// # Sign-out
//
// OpenID Connect RP-initiated logout: the POST (checked as every POST)
// ends the session, then redirects to the provider's end_session_endpoint
// (discovered; used only on the issuer's origin) with id_token_hint,
// post_logout_redirect_uri (PostLogoutURL: the console's list, which must
// be registered at the provider's app) and a state; the provider ends its
// session and sends the browser back, where the list's address with a
// state and no session says it signed out. Without an end-session
// endpoint, sign-out ends the console's session only.
//
// The callback answers with a short page that moves on to the console
// by a meta refresh rather than with a redirect: the session cookie is
// SameSite=Strict, and a browser does not send it on a redirect chain that
// began at another site (the identity provider).
//
// # Sessions and forms
//
// A session is a random id (130 bits) in a cookie (__Host-bollard_console:
// HttpOnly, Secure, SameSite=Strict, Path=/), held until the token's exp
// (the ID token's if sooner), at most 12 hours, or sign-out. Sessions and
// sign-ins under way are kept in memory, or with Config.Shared in the
// fleet's Redis so that every replica behind one front serves them: keyed
// by the SHA-256 of the session id or state (never the value), each
// record's TTL its remaining life, bounded (the soonest to expire dropped
// first when full), a sign-in taken once by a script. While Redis cannot
// be reached nothing is guessed: no session, no sign-in, a 503 page. Secure is set on loopback http too:
// browsers treat http://127.0.0.1 and http://localhost as secure contexts
// and keep such cookies, prefixes included (the browser test checks it
// with Chromium).
//
// Every POST carries the session's CSRF token (a synchronizer token, a
// hidden field, compared in constant time) and is refused with 403,
// before anything is read or recorded, without it, with another, without
// a session, or with a Sec-Fetch-Site other than same-origin or an Origin
// other than the console's when the browser sends them (a browser that
// sends Sec-Fetch-Site: same-origin sends Origin: null on these forms,
// because of Referrer-Policy: no-referrer, and that is accepted).
//
// # Headers
//
// Every response carries Content-Security-Policy: default-src 'none';
// style-src 'self'; form-action 'self' <the issuer's origin>;
// frame-ancestors 'none'; base-uri 'none' (browsers apply form-action to
// the redirects that answer a form, and the sign-out form's answer is the
// redirect to the provider), X-Content-Type-Options: nosniff, Referrer-Policy:
// no-referrer (the callback's URL holds the code), Cache-Control:
// no-store, X-Frame-Options: DENY and Cross-Origin-Opener-Policy:
// same-origin.
//
// Whatever an agent, a policy or a person wrote (the agent's id, the
// action, the parameters, the policy's reason, the votes' comments) is
// escaped by html/template, and its control and format characters (bidi
// overrides among them) are shown as \uXXXX, so that no text can redraw
// the page it is shown on. Parameters are shown as the approval store
// keeps them: masked as the audit record masks them.
package console
