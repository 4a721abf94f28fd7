package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/bollard-dev/bollard/pkg/approvers"
	"github.com/bollard-dev/bollard/pkg/loopback"
)

// maxProviderBody bounds a discovery document or a token response.
const maxProviderBody = 1 << 20

// provider is what the console uses of the discovery document.
// endSession is "" when the provider has no end-session endpoint on the
// issuer's origin: sign-out then ends the console's session only.
type provider struct {
	authorize, token, endSession string
}

// discover reads the issuer's discovery document once; a failure is
// tried again on the next sign-in.
func (c *Console) discover(ctx context.Context) (provider, error) {
	c.provMu.Lock()
	defer c.provMu.Unlock()
	if c.prov != nil {
		return *c.prov, nil
	}
	var doc struct {
		Issuer     string   `json:"issuer"`
		Authorize  string   `json:"authorization_endpoint"`
		Token      string   `json:"token_endpoint"`
		EndSession string   `json:"end_session_endpoint"`
		Challenges []string `json:"code_challenge_methods_supported"`
	}
	wellKnown := strings.TrimSuffix(c.cfg.Issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wellKnown, nil)
	if err != nil {
		return provider{}, fmt.Errorf("discovery: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if err := c.fetchJSON(req, &doc); err != nil {
		return provider{}, fmt.Errorf("discovery: %w", err)
	}
	switch {
	case doc.Issuer != c.cfg.Issuer:
		// OpenID Connect Discovery 4.3: the issuer must be the one asked.
		return provider{}, errors.New("discovery: the document names another issuer")
	case !goodEndpoint(doc.Authorize) || !goodEndpoint(doc.Token):
		return provider{}, errors.New("discovery: the authorization and token endpoints must be https URLs (or http to a loopback IP) without fragment")
	case doc.Challenges != nil && !slices.Contains(doc.Challenges, "S256"):
		return provider{}, errors.New("discovery: the provider does not support PKCE with S256")
	}
	c.prov = &provider{authorize: doc.Authorize, token: doc.Token}
	// The sign-out form's answer redirects there, and the pages'
	// form-action allows the issuer's origin only.
	if u, err := url.Parse(doc.EndSession); doc.EndSession != "" && (!goodEndpoint(doc.EndSession) || err != nil ||
		u.Scheme+"://"+u.Host != c.issuerOrigin || u.RawQuery != "") {
		c.log.Warn("console: the provider's end-session endpoint is not an URL on the issuer's origin without query; sign-out will not end the provider's session",
			"end_session_endpoint", printableURL(doc.EndSession))
	} else {
		c.prov.endSession = doc.EndSession
	}
	return *c.prov, nil
}

func goodEndpoint(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && loopback.CheckURL(u) == nil && u.User == nil && u.Fragment == ""
}

// fetchJSON sends req and decodes a 200 JSON answer into v.
func (c *Console) fetchJSON(req *http.Request, v any) error {
	resp, err := c.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProviderBody+1))
	if err != nil {
		return err
	}
	if len(body) > maxProviderBody {
		return errors.New("the answer is too large")
	}
	if resp.StatusCode != http.StatusOK {
		var oe struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &oe)
		return fmt.Errorf("HTTP %d %s", resp.StatusCode, printableWord(oe.Error))
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return errors.New("the answer is not JSON")
	}
	return json.Unmarshal(body, v)
}

// printableWord keeps an OAuth error code for a log line: letters, digits
// and underscores only, at most 64.
func printableWord(s string) string {
	if len(s) > 64 || strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
	}) >= 0 {
		return "?"
	}
	return s
}

// login starts a sign-in: a state, a PKCE verifier, the pre-login cookie,
// and the browser sent to the authorization endpoint.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	p, err := c.discover(r.Context())
	if err != nil {
		c.log.Error("console: the identity provider cannot be used", "error", err)
		c.render(w, r, http.StatusServiceUnavailable, "message", &view{Title: "Sign-in unavailable",
			Message: "The identity provider cannot be reached or is not usable; try again shortly."})
		return
	}
	verifier := randomB64(32)
	state, binding, nonce := rand.Text(), rand.Text(), rand.Text()
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	if err := c.store.putLogin(ctx, storeKey(state), &login{binding: sha256.Sum256([]byte(binding)), verifier: verifier,
		nonce: nonce, next: safeNext(r.URL.Query().Get("next")), expires: c.cfg.Now().Add(loginTTL)}); err != nil {
		c.storeDown(w, r, err, "sign-in")
		return
	}
	setLoginCookie(w, binding)
	challenge := sha256.Sum256([]byte(verifier))
	u, _ := url.Parse(p.authorize) // checked by discover
	q := u.Query()
	for k, v := range map[string]string{
		"response_type": "code", "client_id": c.cfg.ClientID, "redirect_uri": c.cfg.RedirectURL,
		"scope": "openid email profile", "state": state, "nonce": nonce,
		"code_challenge": base64.RawURLEncoding.EncodeToString(challenge[:]), "code_challenge_method": "S256",
	} {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

func randomB64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// callback ends a sign-in: the state and its cookie, the code exchanged
// with the verifier, the access token verified by the approvers'
// authenticator, and a session.
func (c *Console) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cookie := ""
	if ck, err := r.Cookie(LoginCookie); err == nil {
		cookie = ck.Value
	}
	clearLoginCookie(w)
	in, err := c.takeLogin(r.Context(), q.Get("state"), cookie)
	if err != nil {
		c.storeDown(w, r, err, "sign-in callback")
		return
	}
	if in == nil {
		c.log.Info("console: sign-in callback refused: unknown, used or expired state, or another browser's")
		c.render(w, r, http.StatusBadRequest, "message", &view{Title: "Sign-in failed",
			Message: "This sign-in is unknown, already used, expired, or was started in another browser.", SignIn: true})
		return
	}
	if e := q.Get("error"); e != "" || q.Get("code") == "" {
		c.log.Info("console: the identity provider refused the sign-in", "error", printableWord(e))
		c.render(w, r, http.StatusForbidden, "message", &view{Title: "Sign-in failed",
			Message: "The identity provider did not sign you in (" + printableWord(e) + ").", SignIn: true})
		return
	}
	token, idToken, err := c.exchange(r.Context(), q.Get("code"), in.verifier)
	if err != nil {
		c.log.Error("console: the code could not be exchanged", "error", err)
		c.render(w, r, http.StatusBadGateway, "message", &view{Title: "Sign-in failed",
			Message: "The identity provider's token could not be obtained.", SignIn: true})
		return
	}
	who, err := c.cfg.Auth.Authenticate(r.Context(), token)
	if err == nil && !who.Expires.After(c.cfg.Now()) {
		err = errors.New("the token has expired")
	}
	if err != nil || who.Subject == "" {
		detail := "invalid"
		var ae *approvers.AuthError
		if errors.As(err, &ae) {
			detail = ae.Detail
		}
		msg := "Your identity provider's token was not accepted (" + detail + ")."
		if errors.Is(err, approvers.ErrAgent) {
			msg = "An agent's credential, or a person's token handed to an agent, never signs in here."
		}
		c.log.Warn("console: sign-in refused", "detail", detail)
		c.render(w, r, http.StatusForbidden, "message", &view{Title: "Sign-in refused", Message: msg, SignIn: true})
		return
	}
	hint, err := c.checkIDToken(r.Context(), idToken, in.nonce)
	if err != nil {
		c.log.Warn("console: sign-in refused: the ID token does not belong to this sign-in", "approver", who.Subject, "error", err)
		c.render(w, r, http.StatusForbidden, "message", &view{Title: "Sign-in refused",
			Message: "Your identity provider's ID token does not belong to this sign-in.", SignIn: true})
		return
	}
	id, sess := newSession(who, hint.token, hint.expires, c.cfg.Now())
	if sess.size() > maxSessionBytes {
		c.log.Warn("console: sign-in refused: the token names more than a session keeps", "approver", who.Subject, "bytes", sess.size())
		c.render(w, r, http.StatusForbidden, "message", &view{Title: "Sign-in refused",
			Message: "Your identity provider's token says more about you (groups, names) than the console keeps.", SignIn: true})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	if err := c.store.putSession(ctx, storeKey(id), sess); err != nil {
		c.storeDown(w, r, err, "sign-in callback")
		return
	}
	c.setSessionCookie(w, id, sess)
	c.log.Info("console: signed in", "approver", who.Subject, "email", who.Email, "until", sess.expires)
	// A page, not a redirect: the session cookie is SameSite=Strict, and
	// the redirect chain began at the identity provider's site.
	c.render(w, r, http.StatusOK, "continue", &view{Title: "Signed in", Next: in.next})
}

// exchange redeems a code at the token endpoint, as a public client with
// its PKCE verifier, and returns the access token and the ID token ("" if
// none).
func (c *Console) exchange(ctx context.Context, code, verifier string) (access, id string, err error) {
	p, err := c.discover(ctx)
	if err != nil {
		return "", "", err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.cfg.RedirectURL},
		"client_id": {c.cfg.ClientID}, "code_verifier": {verifier}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.token, strings.NewReader(form.Encode()))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		IDToken     string `json:"id_token"`
	}
	if err := c.fetchJSON(req, &tok); err != nil {
		return "", "", fmt.Errorf("token endpoint: %w", err)
	}
	if tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "Bearer") {
		return "", "", errors.New("token endpoint: no bearer access token in the answer")
	}
	return tok.AccessToken, tok.IDToken, nil
}
