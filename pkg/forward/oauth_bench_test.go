package forward

import (
	"net/http/httptest"
	"testing"
)

// BenchmarkOAuthAuthorizeWarm is the per-call cost once a scope's token is
// cached: a lock-free lookup for Bearer, plus one ES256 proof for DPoP.
func BenchmarkOAuthAuthorizeWarm(b *testing.B) {
	for _, dpop := range []bool{false, true} {
		name := "Bearer"
		if dpop {
			name = "DPoP"
		}
		b.Run(name, func(b *testing.B) {
			key := testECKey()
			f := newFakeOkta(b, key, "kid", dpop)
			o := newTestOAuth(b, f.config(key, scopeUsersRead))
			req := httptest.NewRequest("GET", f.srv.URL+"/api/v1/users?limit=200", nil)
			if err := o.Authorize(b.Context(), req, scopeUsersRead); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := o.Authorize(b.Context(), req, scopeUsersRead); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
