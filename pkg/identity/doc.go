// Package identity answers the first question of every Bollard request: who
// is calling? It turns the bearer credential an agent sends in gRPC metadata
// (`authorization: Bearer <credential>`) into an [Identity] whose ID comes only
// from what was verified — a static agent key looked up in a [KeyStore], or a
// JWT (typically a Kubernetes projected service-account token) checked by a
// [JWTVerifier] against a JWKS. An agent name sent by the caller in any other
// form is never trusted.
//
// Several modes can be enabled at once through [New]: credentials shaped like
// a compact JWS go to the JWT verifier, everything else to the static keys.
// Every failure wraps [ErrNoCredential] or [ErrInvalidCredential] and carries
// a stable reason (see [ReasonOf]) fit for a metric label; no error or log
// line ever contains the credential. Deciding what an identity may do is the
// job of package decision, not this one.
package identity
