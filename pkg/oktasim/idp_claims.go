package oktasim

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"time"
)

// person is what the tokens say about a user, read with s.mu held.
type person struct {
	id, login, email, name string
	groups                 []string // names, sorted
}

// personLocked reads a user and the names of their groups now, so that a
// change of membership shows in the next token. Callers hold s.mu.
func (s *Sim) personLocked(u *user) person {
	p := person{id: u.id, login: u.login(), email: getString(u.profile, "email"), name: u.displayName(), groups: []string{}}
	for _, g := range s.groups {
		if g.members[u.id] {
			p.groups = append(p.groups, g.name())
		}
	}
	slices.Sort(p.groups)
	return p
}

// grantInfo is what a token is issued under.
type grantInfo struct {
	issuer, audience, clientID string
	scopes                     []string
	nonce                      string
	authTime, issued           time.Time
	ttl                        time.Duration
}

// accessClaims are an access token's claims in Okta's order: its default
// claims (sub is the user's login, as Okta's default sub claim
// appuser.userName; uid is the user's id), then the custom claims an admin
// adds for Bollard, email and groups (the names of all the user's groups).
func accessClaims(g grantInfo, p person, jti string) obj {
	return obj{
		{"ver", 1},
		{"jti", "AT." + jti},
		{"iss", g.issuer},
		{"aud", g.audience},
		{"iat", g.issued.Unix()},
		{"exp", g.issued.Add(g.ttl).Unix()},
		{"cid", g.clientID},
		{"uid", p.id},
		{"scp", g.scopes},
		{"auth_time", g.authTime.Unix()},
		{"sub", p.login},
		{"email", p.email},
		{"groups", p.groups},
	}
}

// idClaims are an ID token's claims in Okta's order: sub is the user's id;
// name and preferred_username come with scope profile, email with scope
// email; groups is the same custom claim as the access token's.
func idClaims(g grantInfo, p person, jti, accessToken string) obj {
	o := obj{{"sub", p.id}}
	if slices.Contains(g.scopes, "profile") {
		o = append(o, kv{"name", p.name})
	}
	if slices.Contains(g.scopes, "email") {
		o = append(o, kv{"email", p.email})
	}
	o = append(o, obj{
		{"ver", 1},
		{"iss", g.issuer},
		{"aud", g.clientID},
		{"iat", g.issued.Unix()},
		{"exp", g.issued.Add(g.ttl).Unix()},
		{"jti", "ID." + jti},
		{"amr", []string{"pwd"}},
		{"idp", oktaIdPID},
	}...)
	if g.nonce != "" {
		o = append(o, kv{"nonce", g.nonce})
	}
	if slices.Contains(g.scopes, "profile") {
		o = append(o, kv{"preferred_username", p.login})
	}
	o = append(o, kv{"auth_time", g.authTime.Unix()}, kv{"at_hash", atHash(accessToken)})
	if slices.Contains(g.scopes, "email") {
		o = append(o, kv{"email_verified", true})
	}
	return append(o, kv{"groups", p.groups})
}

// atHash is OpenID Connect's at_hash for RS256: the left half of the
// access token's SHA-256, base64url.
func atHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// sign makes a compact JWS of claims with the server's key: header alg
// RS256 and kid, as Okta's tokens.
func (as *peopleAS) sign(claims obj) (string, error) {
	payload, err := encodeJSON(claims)
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	jws, err := as.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return jws.CompactSerialize()
}
