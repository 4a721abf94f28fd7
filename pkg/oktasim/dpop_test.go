package oktasim

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// dpopToken runs the nonce dance for the DPoP app and returns the access
// token, bound to o.dpop's key.
func (o *oauthEnv) dpopToken(t *testing.T, scope string) string {
	t.Helper()
	form := tokenForm(o.assertion(t, o.dpop, dpopClient, nil), scope)
	htu := o.srv.URL + TokenPath
	nonce := o.postToken(form, proof(t, o.dpop, "POST", htu, "", "", nil)).header.Get("DPoP-Nonce")
	tok := o.postToken(form, proof(t, o.dpop, "POST", htu, nonce, "", nil)).token(t)
	if tok.TokenType != "DPoP" {
		t.Fatalf("token_type = %q, want DPoP", tok.TokenType)
	}
	return tok.AccessToken
}

// dpopCall calls the API with a DPoP token and proof.
func (o *oauthEnv) dpopCall(method, path, token, proof string) *response {
	h := http.Header{"Authorization": {"DPoP " + token}}
	if proof != "" {
		h.Set("DPoP", proof)
	}
	return o.send(method, path, "", h)
}

func TestDPoPNonceDance(t *testing.T) {
	o := newOAuthEnv(t)
	htu := o.srv.URL + TokenPath
	// One assertion for the whole dance: a refused request does not use up
	// its jti, so a client may resend it with the nonce.
	form := tokenForm(o.assertion(t, o.dpop, dpopClient, nil), "okta.users.read")

	desc := o.postToken(form, "").wantOAuthError(t, 400, "invalid_dpop_proof")
	if desc != "The DPoP proof JWT header is missing." {
		t.Errorf("error_description = %q", desc)
	}
	first := o.postToken(form, proof(t, o.dpop, "POST", htu, "", "", nil))
	if d := first.wantOAuthError(t, 400, "use_dpop_nonce"); d != "Authorization server requires nonce in DPoP proof." {
		t.Errorf("error_description = %q", d)
	}
	nonce := first.header.Get("DPoP-Nonce")
	if nonce == "" {
		t.Fatal("use_dpop_nonce without a DPoP-Nonce header")
	}
	tok := o.postToken(form, proof(t, o.dpop, "POST", htu, nonce, "", nil)).token(t)
	if tok.TokenType != "DPoP" || tok.Scope != "okta.users.read" {
		t.Errorf("token = %+v", tok)
	}

	bad := []struct {
		name  string
		proof func(t *testing.T) string
		code  string
	}{
		{"forged nonce", func(t *testing.T) string { return proof(t, o.dpop, "POST", htu, "bm9wZQ", "", nil) }, "use_dpop_nonce"},
		{"htm", func(t *testing.T) string { return proof(t, o.dpop, "GET", htu, nonce, "", nil) }, "invalid_dpop_proof"},
		{"htu", func(t *testing.T) string {
			return proof(t, o.dpop, "POST", o.srv.URL+"/oauth2/default/v1/token", nonce, "", nil)
		}, "invalid_dpop_proof"},
		{"old iat", func(t *testing.T) string {
			return proof(t, o.dpop, "POST", htu, nonce, "", func(c map[string]any) { c["iat"] = testNow.Add(-time.Hour).Unix() })
		}, "invalid_dpop_proof"},
		{"no jti", func(t *testing.T) string {
			return proof(t, o.dpop, "POST", htu, nonce, "", func(c map[string]any) { delete(c, "jti") })
		}, "invalid_dpop_proof"},
		{"symmetric alg", func(t *testing.T) string {
			return proof(t, signer{jose.HS256, []byte("0123456789abcdef0123456789abcdef"), ""}, "POST", htu, nonce, "", nil)
		}, "invalid_dpop_proof"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			f := tokenForm(o.assertion(t, o.dpop, dpopClient, nil), "okta.users.read")
			o.postToken(f, tt.proof(t)).wantOAuthError(t, 400, tt.code)
		})
	}
	t.Run("nonce runs out", func(t *testing.T) {
		o.clock.Advance(dpopNonceLifetime)
		now := o.clock.Now().Unix()
		f := tokenForm(o.assertion(t, o.dpop, dpopClient, nil), "okta.users.read")
		resp := o.postToken(f, proof(t, o.dpop, "POST", htu, nonce, "", func(c map[string]any) { c["iat"] = now }))
		resp.wantOAuthError(t, 400, "use_dpop_nonce")
		if fresh := resp.header.Get("DPoP-Nonce"); fresh == "" || fresh == nonce {
			t.Errorf("no fresh nonce: %q", fresh)
		}
	})
}

func TestDPoPResourceCalls(t *testing.T) {
	o := newOAuthEnv(t)
	token := o.dpopToken(t, "okta.users.read")
	other := o.dpopToken(t, "okta.users.read")
	users := o.srv.URL + "/api/v1/users"
	stranger := signer{jose.ES256, newECKey(t), ""}

	ok := []struct {
		name, path, htu string
	}{
		{"list", "/api/v1/users?limit=2", users},
		{"htu ignores the query", "/api/v1/users?limit=2", users + "?limit=2"},
		{"htu with an escaped @", "/api/v1/users/" + SeedLoginAlice, users + "/" + strings.ReplaceAll(SeedLoginAlice, "@", "%40")},
		{"htu with a plain @", "/api/v1/users/" + url.PathEscape(SeedLoginAlice), users + "/" + SeedLoginAlice},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			o.dpopCall("GET", tt.path, token, proof(t, o.dpop, "GET", tt.htu, "", token, nil)).want(t, 200)
		})
	}
	reqs := o.sim.Requests()
	if last := reqs[len(reqs)-1]; last.AuthScheme != AuthDPoP || last.ClientID != dpopClient || len(last.Scopes) != 1 {
		t.Errorf("DPoP call recorded as %+v", last)
	}

	replayed := proof(t, o.dpop, "GET", users, "", token, nil)
	o.dpopCall("GET", "/api/v1/users", token, replayed).want(t, 200)
	bad := []struct {
		name  string
		proof func(t *testing.T) string
	}{
		{"no proof", func(*testing.T) string { return "" }},
		{"htm", func(t *testing.T) string { return proof(t, o.dpop, "POST", users, "", token, nil) }},
		{"htu path", func(t *testing.T) string { return proof(t, o.dpop, "GET", users+"/"+SeedUserAlice, "", token, nil) }},
		{"htu host", func(t *testing.T) string {
			return proof(t, o.dpop, "GET", "https://example.okta.com/api/v1/users", "", token, nil)
		}},
		{"ath of another token", func(t *testing.T) string { return proof(t, o.dpop, "GET", users, "", other, nil) }},
		{"no ath", func(t *testing.T) string { return proof(t, o.dpop, "GET", users, "", "", nil) }},
		{"key the token is not bound to", func(t *testing.T) string { return proof(t, stranger, "GET", users, "", token, nil) }},
		{"replayed", func(*testing.T) string { return replayed }},
		{"old iat", func(t *testing.T) string {
			return proof(t, o.dpop, "GET", users, "", token, func(c map[string]any) { c["iat"] = testNow.Add(-10 * time.Minute).Unix() })
		}},
		{"garbage", func(*testing.T) string { return "not-a-jwt" }},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			resp := o.dpopCall("GET", "/api/v1/users", token, tt.proof(t))
			resp.wantError(t, 401, CodeInvalidToken)
			ch := resp.header.Get("WWW-Authenticate")
			if !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, `error="invalid_dpop_proof"`) {
				t.Errorf("WWW-Authenticate = %q", ch)
			}
		})
	}

	t.Run("DPoP token as Bearer", func(t *testing.T) {
		resp := o.doToken("GET", "/api/v1/users", nil, "Bearer "+token)
		resp.wantError(t, 401, CodeInvalidToken)
		if ch := resp.header.Get("WWW-Authenticate"); !strings.Contains(ch, `error="invalid_token"`) {
			t.Errorf("WWW-Authenticate = %q", ch)
		}
	})
	t.Run("Bearer token as DPoP", func(t *testing.T) {
		bearer := o.bearer(t, o.rsa, rsaClient, "okta.users.read")
		o.dpopCall("GET", "/api/v1/users", bearer, proof(t, o.dpop, "GET", users, "", bearer, nil)).wantError(t, 401, CodeInvalidToken)
	})
	t.Run("scope still applies", func(t *testing.T) {
		path := "/api/v1/users/" + SeedUserAlice + "/lifecycle/suspend"
		resp := o.dpopCall("POST", path, token, proof(t, o.dpop, "POST", o.srv.URL+path, "", token, nil))
		resp.wantError(t, 403, CodeForbidden)
		if ch := resp.header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, `error="insufficient_scope"`) {
			t.Errorf("WWW-Authenticate = %q", ch)
		}
	})
}

func TestDPoPResourceNonce(t *testing.T) {
	o := newOAuthEnv(t, WithResourceDPoPNonce(true))
	token := o.dpopToken(t, "okta.users.read")
	users := o.srv.URL + "/api/v1/users"

	resp := o.dpopCall("GET", "/api/v1/users", token, proof(t, o.dpop, "GET", users, "", token, nil))
	resp.wantError(t, 401, CodeInvalidToken)
	ch := resp.header.Get("WWW-Authenticate")
	nonce := resp.header.Get("DPoP-Nonce")
	if !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, `error="use_dpop_nonce"`) || nonce == "" {
		t.Fatalf("WWW-Authenticate = %q, DPoP-Nonce = %q", ch, nonce)
	}
	o.dpopCall("GET", "/api/v1/users", token, proof(t, o.dpop, "GET", users, nonce, token, nil)).want(t, 200)
	o.dpopCall("GET", "/api/v1/users", token, proof(t, o.dpop, "GET", users, "forged", token, nil)).wantError(t, 401, CodeInvalidToken)
}
