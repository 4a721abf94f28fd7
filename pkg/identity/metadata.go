package identity

import (
	"fmt"
	"strings"

	"google.golang.org/grpc/metadata"
)

const bearerScheme = "bearer"

// FromMetadata extracts the bearer credential from incoming gRPC metadata.
// It wants exactly one `authorization` value of the form `Bearer <token68>`
// (scheme case-insensitive). A missing or blank header is ErrNoCredential;
// anything else that is not exactly that shape — several values, another
// scheme, stray characters, more than MaxCredentialLen bytes — is
// ErrInvalidCredential.
func FromMetadata(md metadata.MD) (string, error) {
	vals := md.Get("authorization")
	switch len(vals) {
	case 0:
		return "", fail(ErrNoCredential, ReasonMissing, "no authorization metadata")
	case 1:
	default:
		return "", fail(ErrInvalidCredential, ReasonMalformed, fmt.Sprintf("%d authorization values, want exactly one", len(vals)))
	}
	return parseBearer(vals[0])
}

func parseBearer(v string) (string, error) {
	// The header carries "Bearer " on top of the credential itself.
	if len(v) > MaxCredentialLen+len(bearerScheme)+16 {
		return "", fail(ErrInvalidCredential, ReasonTooLong, fmt.Sprintf("authorization value longer than %d bytes", MaxCredentialLen))
	}
	v = strings.Trim(v, " \t")
	if v == "" {
		return "", fail(ErrNoCredential, ReasonMissing, "empty authorization value")
	}
	scheme, rest, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, bearerScheme) {
		// The scheme is not secret, but it may be a credential sent without
		// one, so it is not echoed either.
		return "", fail(ErrInvalidCredential, ReasonMalformed, "authorization scheme is not Bearer")
	}
	cred := strings.TrimLeft(rest, " ")
	if cred == "" {
		return "", fail(ErrNoCredential, ReasonMissing, "empty bearer credential")
	}
	if len(cred) > MaxCredentialLen {
		return "", fail(ErrInvalidCredential, ReasonTooLong, fmt.Sprintf("credential longer than %d bytes", MaxCredentialLen))
	}
	if !isToken68(cred) {
		return "", fail(ErrInvalidCredential, ReasonMalformed, "bearer credential has characters outside RFC 6750 token68")
	}
	return cred, nil
}

// isToken68 checks the RFC 6750 b64token grammar:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isToken68(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		ch := s[i]
		if !isBase64URL(ch) && ch != '.' && ch != '~' && ch != '+' && ch != '/' {
			break
		}
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}
