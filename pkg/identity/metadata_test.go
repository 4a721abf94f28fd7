package identity

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc/metadata"
)

func TestFromMetadata(t *testing.T) {
	key := "bk_" + strings.Repeat("A", 43)
	jws := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
	tests := []struct {
		name     string
		md       metadata.MD
		want     string
		sentinel error
		reason   string
	}{
		{name: "bearer key", md: metadata.Pairs("authorization", "Bearer "+key), want: key},
		{name: "bearer jws", md: metadata.Pairs("authorization", "Bearer "+jws), want: jws},
		{name: "scheme case-insensitive", md: metadata.Pairs("authorization", "bEaReR "+key), want: key},
		{name: "header name case-insensitive", md: metadata.Pairs("Authorization", "Bearer "+key), want: key},
		{name: "extra spaces", md: metadata.Pairs("authorization", "  Bearer   "+key+" "), want: key},
		{name: "token68 padding", md: metadata.Pairs("authorization", "Bearer abc+/~.-_=="), want: "abc+/~.-_=="},
		{name: "no metadata", md: nil, sentinel: ErrNoCredential, reason: ReasonMissing},
		{name: "other headers only", md: metadata.Pairs("x-agent-id", "provisioner-bot"), sentinel: ErrNoCredential, reason: ReasonMissing},
		{name: "empty value", md: metadata.Pairs("authorization", ""), sentinel: ErrNoCredential, reason: ReasonMissing},
		{name: "bearer without token", md: metadata.Pairs("authorization", "Bearer"), sentinel: ErrNoCredential, reason: ReasonMissing},
		{name: "bearer with blanks", md: metadata.Pairs("authorization", "Bearer    "), sentinel: ErrNoCredential, reason: ReasonMissing},
		{name: "two values", md: metadata.Pairs("authorization", "Bearer "+key, "authorization", "Bearer "+key), sentinel: ErrInvalidCredential, reason: ReasonMalformed},
		{name: "basic scheme", md: metadata.Pairs("authorization", "Basic dXNlcjpwYXNz"), sentinel: ErrInvalidCredential, reason: ReasonMalformed},
		{name: "no scheme", md: metadata.Pairs("authorization", key), sentinel: ErrInvalidCredential, reason: ReasonMalformed},
		{name: "bearer prefix glued", md: metadata.Pairs("authorization", "Bearer"+key), sentinel: ErrInvalidCredential, reason: ReasonMalformed},
		{name: "two tokens", md: metadata.Pairs("authorization", "Bearer a b"), sentinel: ErrInvalidCredential, reason: ReasonMalformed},
		{name: "tab inside", md: metadata.Pairs("authorization", "Bearer a\tb"), sentinel: ErrInvalidCredential, reason: ReasonMalformed},
		{name: "padding in middle", md: metadata.Pairs("authorization", "Bearer ab=c"), sentinel: ErrInvalidCredential, reason: ReasonMalformed},
		{name: "only padding", md: metadata.Pairs("authorization", "Bearer =="), sentinel: ErrInvalidCredential, reason: ReasonMalformed},
		{name: "non-ascii", md: metadata.Pairs("authorization", "Bearer clé"), sentinel: ErrInvalidCredential, reason: ReasonMalformed},
		{name: "at limit", md: metadata.Pairs("authorization", "Bearer "+strings.Repeat("a", MaxCredentialLen)), want: strings.Repeat("a", MaxCredentialLen)},
		{name: "too long", md: metadata.Pairs("authorization", "Bearer "+strings.Repeat("a", MaxCredentialLen+1)), sentinel: ErrInvalidCredential, reason: ReasonTooLong},
		{name: "huge", md: metadata.Pairs("authorization", strings.Repeat("a", 1<<20)), sentinel: ErrInvalidCredential, reason: ReasonTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromMetadata(tt.md)
			if tt.sentinel == nil {
				if err != nil {
					t.Fatalf("FromMetadata() error = %v", err)
				}
				if got != tt.want {
					t.Fatalf("FromMetadata() = %q, want %q", got, tt.want)
				}
				return
			}
			if !errors.Is(err, tt.sentinel) {
				t.Fatalf("FromMetadata() error = %v, want %v", err, tt.sentinel)
			}
			wantReason(t, err, tt.reason)
			if got != "" {
				t.Fatalf("FromMetadata() returned %q with an error", got)
			}
			if len(tt.md["authorization"]) > 0 && strings.Contains(err.Error(), key) {
				t.Fatalf("error leaks the credential: %v", err)
			}
		})
	}
}

func FuzzFromMetadata(f *testing.F) {
	for _, s := range []string{
		"", "Bearer", "Bearer ", "bearer bk_abc", "Bearer bk_" + strings.Repeat("x", 43),
		"Bearer a.b.c", "Bearer eyJhbGciOiJub25lIn0.e30.", "Basic Zm9vOmJhcg==", "Bearer a==",
		"Bearer  \t x", "Bearer \x00", "BEARER é", "Bearer " + strings.Repeat("A", MaxCredentialLen+1),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		cred, err := FromMetadata(metadata.MD{"authorization": {v}})
		if err != nil {
			if !errors.Is(err, ErrNoCredential) && !errors.Is(err, ErrInvalidCredential) {
				t.Fatalf("error %v wraps neither sentinel", err)
			}
			if ReasonOf(err) == "" {
				t.Fatalf("error %v has no reason", err)
			}
			// Our fixed messages are shorter than this, so containing the
			// input would mean echoing it.
			if len(v) >= 24 && strings.Contains(err.Error(), v) {
				t.Fatalf("error echoes the input: %v", err)
			}
			return
		}
		if cred == "" || len(cred) > MaxCredentialLen || !isToken68(cred) || !strings.Contains(v, cred) {
			t.Fatalf("FromMetadata(%q) = %q: not a bounded token68 taken from the input", v, cred)
		}
		if strings.ContainsAny(cred, " \t\r\n") {
			t.Fatalf("credential %q contains whitespace", cred)
		}
	})
}
