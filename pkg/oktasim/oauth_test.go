package oktasim

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func TestTokenHappyPath(t *testing.T) {
	o := newOAuthEnv(t)
	tests := []struct {
		name     string
		key      func() signer
		clientID string
		scope    string
		want     string // granted scopes come back once each, in the order asked
		ttl      int
	}{
		{"RS256", func() signer { return o.rsa }, rsaClient, "okta.users.read", "okta.users.read", 3600},
		{"ES256 with a kid among two keys", func() signer { return o.ec }, ecClient,
			"okta.users.read  okta.groups.read okta.users.read", "okta.users.read okta.groups.read", 600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := o.postToken(tokenForm(o.assertion(t, tt.key(), tt.clientID, nil), tt.scope), "")
			tok := resp.token(t)
			if tok.TokenType != "Bearer" || tok.ExpiresIn != tt.ttl || len(tok.AccessToken) < 40 {
				t.Errorf("token = %+v", tok)
			}
			if tok.Scope != tt.want {
				t.Errorf("scope = %q, want %q", tok.Scope, tt.want)
			}
			if resp.header.Get("Cache-Control") != "no-store" || resp.header.Get("Pragma") != "no-cache" {
				t.Errorf("token response may be cached: %v", resp.header)
			}

			api := o.doToken("GET", "/api/v1/users/"+SeedUserAlice, nil, "Bearer "+tok.AccessToken).want(t, 200)
			if api.object(t)["id"] != SeedUserAlice {
				t.Errorf("wrong user: %s", api.body)
			}
			reqs := o.sim.Requests()
			tr, ar := reqs[len(reqs)-2], reqs[len(reqs)-1]
			if tr.Path != TokenPath || tr.Status != 200 || tr.ClientID != tt.clientID || tr.AuthScheme != "" || tr.UserAgent != "token-test/1.0" {
				t.Errorf("token request recorded as %+v", tr)
			}
			if ar.AuthScheme != AuthBearer || ar.ClientID != tt.clientID || !slices.Equal(ar.Scopes, strings.Fields(tok.Scope)) {
				t.Errorf("API request recorded as %+v", ar)
			}
		})
	}
	t.Run("grant is logged", func(t *testing.T) {
		events := o.sim.Events()
		var grants []Event
		for _, ev := range events {
			if ev.EventType == "app.oauth2.token.grant.access_token" {
				grants = append(grants, ev)
			}
		}
		if len(grants) != 2 || grants[0].ActorID != rsaClient || grants[0].ActorType != "PublicClientApp" ||
			grants[0].UserAgent != "token-test/1.0" {
			t.Errorf("grant events = %+v", grants)
		}
	})
}

func TestTokenErrors(t *testing.T) {
	o := newOAuthEnv(t)
	otherEC := signer{jose.ES256, newECKey(t), "ec-1"}
	valid := func(t *testing.T) url.Values {
		return tokenForm(o.assertion(t, o.rsa, rsaClient, nil), "okta.users.read")
	}
	replayed := valid(t)
	o.postToken(replayed, "").token(t)

	tests := []struct {
		name   string
		form   func(t *testing.T) url.Values
		ctype  string
		status int
		code   string
		desc   string // part of error_description: the check that failed
	}{
		{"bad signature", func(t *testing.T) url.Values {
			return tokenForm(o.assertion(t, otherEC, ecClient, nil), "okta.users.read")
		}, "", 401, "invalid_client", "signature is invalid"},
		{"EC signature for an RSA kid", func(t *testing.T) url.Values {
			k := signer{jose.ES256, newECKey(t), "rsa-1"}
			return tokenForm(o.assertion(t, k, rsaClient, nil), "okta.users.read")
		}, "", 401, "invalid_client", "signature is invalid"},
		{"unknown kid", func(t *testing.T) url.Values {
			k := o.ec
			k.kid = "ec-9"
			return tokenForm(o.assertion(t, k, ecClient, nil), "okta.users.read")
		}, "", 401, "invalid_client", "kid is invalid"},
		{"no kid with two keys", func(t *testing.T) url.Values {
			k := o.ec
			k.kid = ""
			return tokenForm(o.assertion(t, k, ecClient, nil), "okta.users.read")
		}, "", 401, "invalid_client", "kid is invalid"},
		{"wrong aud", func(t *testing.T) url.Values {
			return tokenForm(o.assertion(t, o.rsa, rsaClient, func(c *jwt.Claims) {
				c.Audience = jwt.Audience{o.srv.URL + "/oauth2/default/v1/token"}
			}), "okta.users.read")
		}, "", 401, "invalid_client", "audience claim"},
		{"expired", func(t *testing.T) url.Values {
			return tokenForm(o.assertion(t, o.rsa, rsaClient, func(c *jwt.Claims) {
				c.Expiry = jwt.NewNumericDate(testNow.Add(-time.Second))
			}), "okta.users.read")
		}, "", 401, "invalid_client", "is expired"},
		{"exp more than an hour away", func(t *testing.T) url.Values {
			return tokenForm(o.assertion(t, o.rsa, rsaClient, func(c *jwt.Claims) {
				c.Expiry = jwt.NewNumericDate(testNow.Add(2 * time.Hour))
			}), "okta.users.read")
		}, "", 401, "invalid_client", "too far into the future"},
		{"no exp", func(t *testing.T) url.Values {
			return tokenForm(o.assertion(t, o.rsa, rsaClient, func(c *jwt.Claims) { c.Expiry = nil }), "okta.users.read")
		}, "", 401, "invalid_client", "'exp' claim"},
		{"iss is not sub", func(t *testing.T) url.Values {
			return tokenForm(o.assertion(t, o.rsa, rsaClient, func(c *jwt.Claims) { c.Issuer = ecClient }), "okta.users.read")
		}, "", 401, "invalid_client", "'iss' and 'sub'"},
		{"unknown client", func(t *testing.T) url.Values {
			return tokenForm(o.assertion(t, o.rsa, "0oaNOBODY", nil), "okta.users.read")
		}, "", 401, "invalid_client", "'client_id'"},
		{"replayed jti", func(*testing.T) url.Values { return replayed }, "", 401, "invalid_client", "already been used"},
		{"HS256 assertion", func(t *testing.T) url.Values {
			k := signer{jose.HS256, []byte("a client secret of enough length!"), "rsa-1"}
			return tokenForm(o.assertion(t, k, rsaClient, nil), "okta.users.read")
		}, "", 401, "invalid_client", "algorithm is not supported"},
		{"not a JWT", func(*testing.T) url.Values { return tokenForm("not.a.jwt", "okta.users.read") }, "", 401, "invalid_client", "parsing of the client_assertion failed"},
		{"wrong assertion type", func(t *testing.T) url.Values {
			f := valid(t)
			f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
			return f
		}, "", 401, "invalid_client", "client_assertion_type is invalid"},
		{"client secret", func(*testing.T) url.Values {
			return url.Values{"grant_type": {"client_credentials"}, "scope": {"okta.users.read"}, "client_id": {rsaClient}, "client_secret": {"s"}}
		}, "", 401, "invalid_client", "private_key_jwt"},
		{"no client at all", func(*testing.T) url.Values {
			return url.Values{"grant_type": {"client_credentials"}, "scope": {"okta.users.read"}}
		}, "", 401, "invalid_client", "client_id must be provided"},
		{"scope not granted", func(t *testing.T) url.Values {
			return tokenForm(o.assertion(t, o.rsa, rsaClient, nil), "okta.users.read okta.apps.manage")
		}, "", 400, "invalid_scope", "invalid, unknown, or malformed"},
		{"no scope", func(t *testing.T) url.Values {
			return tokenForm(o.assertion(t, o.rsa, rsaClient, nil), "")
		}, "", 400, "invalid_scope", "'scope' must be provided"},
		{"unknown grant type", func(t *testing.T) url.Values {
			f := valid(t)
			f.Set("grant_type", "magic")
			return f
		}, "", 400, "unsupported_grant_type", "does not support the requested 'grant_type'"},
		{"grant type not configured", func(t *testing.T) url.Values {
			f := valid(t)
			f.Set("grant_type", "password")
			return f
		}, "", 400, "unauthorized_client", "Configured grant types: [client_credentials]"},
		{"no grant type", func(t *testing.T) url.Values {
			f := valid(t)
			f.Del("grant_type")
			return f
		}, "", 400, "invalid_request", "must specify a 'grant_type'"},
		{"repeated parameter", func(t *testing.T) url.Values {
			f := valid(t)
			f.Add("scope", "okta.logs.read")
			return f
		}, "", 400, "invalid_request", "'scope' parameter must not be repeated"},
		{"JSON body", valid, "application/json", 400, "invalid_request", "x-www-form-urlencoded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctype := tt.ctype
			if ctype == "" {
				ctype = "application/x-www-form-urlencoded"
			}
			resp := o.send("POST", TokenPath, tt.form(t).Encode(), http.Header{"Content-Type": {ctype}})
			if desc := resp.wantOAuthError(t, tt.status, tt.code); !strings.Contains(desc, tt.desc) {
				t.Errorf("error_description %q does not say %q", desc, tt.desc)
			}
		})
	}

	t.Run("an assertion is good once", func(t *testing.T) {
		a := o.assertion(t, o.rsa, rsaClient, nil)
		o.postToken(tokenForm(a, "okta.users.read"), "").token(t)
		o.postToken(tokenForm(a, "okta.users.read"), "").wantOAuthError(t, 401, "invalid_client")
	})
	t.Run("GET is not allowed", func(t *testing.T) {
		resp := o.send("GET", TokenPath, "", nil)
		resp.wantError(t, 405, CodeMethodNotSupported)
		if resp.header.Get("Allow") != "POST" {
			t.Errorf("Allow = %q", resp.header.Get("Allow"))
		}
	})
	t.Run("nothing issued", func(t *testing.T) {
		o.sim.mu.Lock()
		defer o.sim.mu.Unlock()
		if n := len(o.sim.tokens); n != 2 {
			t.Errorf("%d tokens issued, want the 2 good requests'", n)
		}
	})
}

func TestServiceAppValidation(t *testing.T) {
	ec := signer{jose.ES256, newECKey(t), "k"}
	tests := []struct {
		name string
		app  ServiceApp
	}{
		{"no client id", ServiceApp{PublicKeys: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{ec.public()}}}},
		{"no keys", ServiceApp{ClientID: "0oa1"}},
		{"symmetric key", ServiceApp{ClientID: "0oa1", PublicKeys: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: []byte("secret")}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("New accepted %+v", tt.app)
				}
			}()
			New(WithServiceApp(tt.app))
		})
	}
	t.Run("twice", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Errorf("New accepted a client id twice")
			}
		}()
		app := ServiceApp{ClientID: "0oa1", PublicKeys: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{ec.public()}}}
		New(WithServiceApp(app), WithServiceApp(app))
	})
	t.Run("private key is reduced to its public half", func(t *testing.T) {
		priv := jose.JSONWebKey{Key: ec.key, KeyID: "k"}
		s := New(WithServiceApp(ServiceApp{ClientID: "0oa1", PublicKeys: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{priv}}}))
		if k := s.clients["0oa1"].keys[0]; !k.IsPublic() {
			t.Errorf("kept a private key")
		}
	})
}
