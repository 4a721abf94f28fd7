package oktasim_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// A service app trades a Private Key JWT client assertion for an access
// token, then calls the API with it. The assertion is what a test in any
// package builds with go-jose: signed RS256 or ES256 with the app's private
// key, kid naming the registered public key, iss and sub the client id, aud
// the token endpoint on the simulator's own origin, exp at most an hour
// away (on the simulator's clock), and a jti used once.
func ExampleWithServiceApp() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sim := oktasim.New(oktasim.WithServiceApp(oktasim.ServiceApp{
		ClientID:   "0oaEXAMPLEAPP0000g7",
		PublicKeys: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "key-1"}}},
		Scopes:     []string{"okta.users.read"},
	}))
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()

	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "key-1"))
	now := time.Now()
	assertion, _ := jwt.Signed(signer).Claims(jwt.Claims{
		Issuer: "0oaEXAMPLEAPP0000g7", Subject: "0oaEXAMPLEAPP0000g7",
		Audience: jwt.Audience{srv.URL + oktasim.TokenPath},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute)),
		ID: rand.Text(),
	}).Serialize()

	resp, err := http.PostForm(srv.URL+oktasim.TokenPath, url.Values{
		"grant_type": {"client_credentials"}, "scope": {"okta.users.read"},
		"client_assertion_type": {oktasim.ClientAssertionType}, "client_assertion": {assertion},
	})
	if err != nil {
		panic(err)
	}
	var tok struct {
		TokenType   string `json:"token_type"`
		AccessToken string `json:"access_token"`
		Scope       string `json:"scope"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/users/"+oktasim.SeedUserAlice, nil)
	req.Header.Set("Authorization", tok.TokenType+" "+tok.AccessToken)
	api, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	api.Body.Close()
	fmt.Println(tok.TokenType, tok.Scope, api.StatusCode)
	// Output: Bearer okta.users.read 200
}
