package audit

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// What is a secret, whatever its place: the names of the fields that carry
// one, and the shapes of values that are one. The masker (mask.go) applies
// these rules to params and context alike.

// sensitiveKeys are the object keys whose values carry a secret wherever
// they appear in a request, an answer of Okta's or the facts taken from one:
// every secret-bearing field of the catalog's actions. A key matches
// whatever its case and separators (isSensitiveKey), so Okta's snake_case
// client_secret is caught as well as clientSecret. Where they come from:
var sensitiveKeys = []string{
	// users.create, users.update, users.replace: credentials.password (its
	// "value", or hash.value, is masked; see maskCtx) and
	// credentials.recovery_question.answer. app_assignments.assign and
	// .update, apps.create and .replace: credentials.password of an app's
	// user or of a shared sign-on.
	"password", "answer",
	// apps.create, .replace, and their answers (.get, .list):
	// credentials.oauthClient.client_secret; settings.app of template apps
	// (apiKey, secret); a private key in place of a JWK.
	"clientSecret", "secret", "apiKey", "apiToken", "privateKey",
	// factors.enroll: profile.sharedSecret (hardware and HOTP tokens),
	// verify.passCode and verify.nextPassCode (tokens enrolled with a code),
	// profile.answer (security question, above); its answer and
	// factors.get/.list: _embedded.activation.sharedSecret (TOTP) and
	// _embedded.activation._links.qrcode, whose href holds a token that
	// renders the shared secret.
	"sharedSecret", "passCode", "nextPassCode", "otp", "verificationCode", "qrcode",
	// user_lifecycle.activate and .reactivate with sendEmail=false answer
	// activationToken and activationUrl (the token in a URL); Okta's reset
	// and recovery flows answer resetPasswordUrl and recoveryToken.
	"activationToken", "activationUrl", "resetPasswordUrl", "recoveryToken",
	// Tokens of the authentication and OAuth flows an agent may paste into a
	// body or Okta may echo: sessionToken and stateToken (Authn), access,
	// refresh and id tokens, and the word itself.
	"token", "accessToken", "refreshToken", "idToken", "sessionToken", "stateToken",
	// sessions.get, .refresh and .revoke: the path parameter sessionId,
	// which is a bearer secret (whoever holds it is signed in); logs.list:
	// authenticationContext.externalSessionId of every event. (The id
	// inside a session object, its URLs, and the target facts' "session"
	// are caught by value: see Record.Resource and secretURL.)
	"sessionId", "externalSessionId",
}

// maxKeyLen is the longest normalised name in sensitiveKeys.
const maxKeyLen = len("externalsessionid")

// sensitiveByLen holds sensitiveKeys normalised, by length, so that a key
// is compared with the few names of its own length.
var sensitiveByLen = func() (t [maxKeyLen + 1][]string) {
	for _, k := range sensitiveKeys {
		var buf [maxKeyLen]byte
		n, ok := normalizeKey(&buf, k)
		if !ok {
			panic("audit: sensitive key " + k + " is too long")
		}
		t[n] = append(t[n], string(buf[:n]))
	}
	return t
}()

// sensitiveFirst marks what a key may start with, as keyFold maps it: the
// first letter of a name in sensitiveKeys, or a mark that needs a closer
// look (a separator, a byte outside ASCII).
var sensitiveFirst = func() (t [256]bool) {
	for n := range sensitiveByLen {
		for _, s := range sensitiveByLen[n] {
			t[s[0]] = true
		}
	}
	t[keySeparator], t[keyNonASCII] = true, true
	return t
}()

// sensitiveName reports whether k names a secret, and which: the
// normalised name from sensitiveKeys. It does not allocate.
func sensitiveName(k string) (string, bool) {
	if len(k) < 3 || len(k) > 4*maxKeyLen { // "otp"; separators aside
		return "", false
	}
	if !sensitiveFirst[keyFold[k[0]]] { // most keys, at the cost of a load
		return "", false
	}
	var buf [maxKeyLen]byte
	n, ok := normalizeKey(&buf, k)
	if !ok {
		return "", false
	}
	for _, s := range sensitiveByLen[n] {
		if s == string(buf[:n]) {
			return s, true
		}
	}
	return "", false
}

func isSensitiveKey(k string) bool {
	_, ok := sensitiveName(k)
	return ok
}

// normalizeKey writes k into buf without the separators '_', '-', '.' and
// space, in lower case: CLIENT.SECRET, Client-Secret and client_secret all
// become clientsecret. A letter outside ASCII that folds to an ASCII one
// (the Kelvin sign, the long s) is folded as strings.EqualFold does. ok is
// false when the result is longer than buf or holds any other non-ASCII
// letter: then k names nothing in sensitiveKeys.
func normalizeKey(buf *[maxKeyLen]byte, k string) (n int, ok bool) {
	for i := 0; i < len(k); i++ {
		c := keyFold[k[i]]
		switch c {
		case keySeparator:
			continue
		case keyNonASCII:
			r, size := utf8.DecodeRuneInString(k[i:])
			i += size - 1
			if c, ok = foldASCII(r); !ok {
				return 0, false
			}
			c = keyFold[c] // a letter: never a separator
		}
		if n == len(buf) {
			return 0, false
		}
		buf[n] = c
		n++
	}
	return n, true
}

// keyFold maps each byte of a key to what normalizeKey keeps of it.
var keyFold = func() (t [256]byte) {
	for c := range t {
		switch {
		case c == '_' || c == '-' || c == '.' || c == ' ':
			t[c] = keySeparator
		case c >= utf8.RuneSelf:
			t[c] = keyNonASCII
		case 'A' <= c && c <= 'Z':
			t[c] = byte(c) + 'a' - 'A'
		default:
			t[c] = byte(c)
		}
	}
	return t
}()

// Marks in keyFold: neither is an ASCII byte.
const (
	keySeparator = 0xFE
	keyNonASCII  = 0xFF
)

// foldASCII returns the ASCII letter r folds to, if any.
func foldASCII(r rune) (byte, bool) {
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < utf8.RuneSelf {
			return byte(f), true
		}
	}
	return 0, false
}

// jwkPrivate are the private members of a JSON Web Key (RFC 7518 section 6:
// RSA d, p, q, dp, dq, qi and oth; EC and OKP d; a symmetric key's k). They
// are masked only inside an object with a "kty" member, a key, so that an
// ordinary field named "d" or "q" is left alone. Names are exact, as JWK
// members are case-sensitive.
var jwkPrivate = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

func isJWKPrivate(k string) bool {
	return len(k) <= 3 && slices.Contains(jwkPrivate, k)
}

// capabilityPaths are path segments after which a URL carries a secret: a
// session id (/api/v1/sessions/{id}, as in a session's _links and the
// System Log's debugData.requestUri), an activation or reset token, a TOTP
// QR code token.
var capabilityPaths = []string{"/sessions/", "/welcome/", "/reset_password/", "/reset-password/", "/qr/"}

// secretURL reports whether s is a URL or path that carries a secret: one
// of capabilityPaths followed by a segment, or a query parameter named by
// sensitiveKeys (?token=..., &sessionToken=...).
func secretURL(s string) bool {
	if len(s) < 2 || s[0] != '/' && !strings.HasPrefix(s, "http") {
		return false
	}
	for _, p := range capabilityPaths {
		if i := strings.Index(s, p); i >= 0 && i+len(p) < len(s) && s[i+len(p)] != '?' && s[i+len(p)] != '#' {
			return true
		}
	}
	q := strings.IndexByte(s, '?')
	if q < 0 {
		return false
	}
	query, _, _ := strings.Cut(s[q+1:], "#")
	for query != "" {
		var part string
		part, query, _ = strings.Cut(query, "&")
		if name, _, _ := strings.Cut(part, "="); isSensitiveKey(name) {
			return true
		}
	}
	return false
}

// containsSecret reports whether s is, or holds, one of the record's secret
// values (Record.Resource under a sensitive key). A short secret must match
// whole: a substring rule would mask any string holding its few letters.
func containsSecret(s string, secrets []string) bool {
	for _, v := range secrets {
		if s == v || len(v) >= minSecretSubstring && strings.Contains(s, v) {
			return true
		}
	}
	return false
}

// minSecretSubstring is the shortest secret looked for inside strings.
// Okta's session ids are 25 characters.
const minSecretSubstring = 8
