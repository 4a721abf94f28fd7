package forward

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	// maxTokenResponseBytes bounds what the token endpoint can make us read.
	maxTokenResponseBytes = 64 << 10
	// assertionLifetime is short: the assertion is used once, at once.
	assertionLifetime = 5 * time.Minute
	// maxTokenLifetime caps expires_in so a bogus value cannot pin a token
	// (or overflow a Duration); Okta's org server issues 1-hour tokens.
	maxTokenLifetime = 24 * time.Hour
	maxErrorText     = 200
)

// TokenError is a failure to obtain a token for one scope: Okta's token
// endpoint refused, answered with something Bollard will not use, or could
// not be reached. Its text names the scope and Okta's OAuth error code and
// never contains the assertion, a DPoP proof, a token or key material.
type TokenError struct {
	Scope       string
	Status      int    // HTTP status; 0 when there was no answer
	Code        string // OAuth error code, e.g. invalid_client, invalid_scope
	Description string // Okta's error_description, clipped and scrubbed
	cause       error
}

func (e *TokenError) Error() string {
	var b strings.Builder
	b.WriteString("okta token for scope ")
	b.WriteString(e.Scope)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": status %d", e.Status)
	}
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	if e.Description != "" {
		fmt.Fprintf(&b, " (%s)", e.Description)
	}
	if e.cause != nil {
		b.WriteString(": ")
		b.WriteString(e.cause.Error())
	}
	return b.String()
}

func (e *TokenError) Unwrap() error { return e.cause }

// tokenResponse is the token endpoint's answer, success or error.
type tokenResponse struct {
	AccessToken      string      `json:"access_token"`
	TokenType        string      `json:"token_type"`
	ExpiresIn        json.Number `json:"expires_in"`
	Scope            string      `json:"scope"`
	Error            string      `json:"error"`
	ErrorDescription string      `json:"error_description"`
}

// fetch obtains a token for exactly scope. With DPoP, a use_dpop_nonce
// refusal is answered once with the nonce Okta supplied; each attempt gets a
// new assertion because Okta rejects a reused jti.
func (o *OAuth) fetch(ctx context.Context, scope string) (*cachedToken, error) {
	for attempt := 0; ; attempt++ {
		tok, retry, err := o.requestToken(ctx, scope)
		if retry && attempt == 0 {
			continue
		}
		return tok, err
	}
}

func (o *OAuth) requestToken(ctx context.Context, scope string) (tok *cachedToken, retryNonce bool, err error) {
	sent := o.now()
	assertion, err := o.assertion(sent)
	if err != nil {
		return nil, false, &TokenError{Scope: scope, cause: err}
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {scope},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.tokenURL.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, false, &TokenError{Scope: scope, cause: err}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", o.opts.userAgent)
	secrets := []string{assertion}
	if o.dpop != nil {
		proof, err := o.dpop.proof(http.MethodPost, o.tokenURL, "", o.tokenURL.String(), sent)
		if err != nil {
			return nil, false, &TokenError{Scope: scope, cause: err}
		}
		req.Header.Set("DPoP", proof)
		secrets = append(secrets, proof)
	}

	resp, err := o.http.Do(req)
	if err != nil {
		return nil, false, &TokenError{Scope: scope, cause: scrubURLError(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponseBytes+1))
	if err != nil {
		return nil, false, &TokenError{Scope: scope, Status: resp.StatusCode, cause: fmt.Errorf("read token response: %w", scrubURLError(err))}
	}
	if len(body) > maxTokenResponseBytes {
		return nil, false, &TokenError{Scope: scope, Status: resp.StatusCode, cause: fmt.Errorf("token response exceeds %d bytes", maxTokenResponseBytes)}
	}
	var nonceStored bool
	if o.dpop != nil {
		nonceStored = o.dpop.rememberNonce(o.tokenURL.String(), resp.Header.Get("DPoP-Nonce"))
	}
	var tr tokenResponse
	jsonErr := json.Unmarshal(body, &tr)
	if resp.StatusCode != http.StatusOK {
		te := &TokenError{Scope: scope, Status: resp.StatusCode}
		if jsonErr == nil {
			te.Code = clip(printable(tr.Error), 64)
			te.Description = scrub(tr.ErrorDescription, secrets)
		}
		return nil, te.Code == "use_dpop_nonce" && nonceStored, te
	}
	if jsonErr != nil {
		return nil, false, &TokenError{Scope: scope, Status: resp.StatusCode, cause: errors.New("token response is not a JSON token document")}
	}
	tok, err = o.newToken(scope, sent, tr)
	if err != nil {
		return nil, false, &TokenError{Scope: scope, Status: resp.StatusCode, cause: err}
	}
	return tok, false, nil
}

// newToken checks a successful answer and refuses anything but a token of
// the expected type for exactly the requested scope. Errors quote neither
// the token nor the body.
func (o *OAuth) newToken(scope string, sent time.Time, tr tokenResponse) (*cachedToken, error) {
	wantType := "Bearer"
	if o.dpop != nil {
		wantType = "DPoP"
	}
	if !strings.EqualFold(tr.TokenType, wantType) {
		return nil, fmt.Errorf("token type %q, want %s", clip(printable(tr.TokenType), 32), wantType)
	}
	if tr.AccessToken == "" || !isTokenChars(tr.AccessToken) {
		return nil, errors.New("access token is empty or has characters not allowed in a header")
	}
	secs, err := strconv.ParseInt(tr.ExpiresIn.String(), 10, 64)
	if err != nil || secs <= 0 {
		return nil, errors.New("expires_in is missing or not a positive integer")
	}
	// Okta names the granted scopes; a token for more than was asked is
	// refused outright, never cached or sent.
	if tr.Scope != "" {
		if granted := strings.Fields(tr.Scope); len(granted) != 1 || granted[0] != scope {
			return nil, fmt.Errorf("granted scope %q is not exactly the requested scope; token refused", clip(printable(tr.Scope), maxErrorText))
		}
	}
	life := time.Duration(min(secs, int64(maxTokenLifetime/time.Second))) * time.Second
	refreshAt, expiresAt := tokenLifetime(sent, life, o.refreshBefore)
	t := &cachedToken{value: tr.AccessToken, header: wantType + " " + tr.AccessToken, refreshAt: refreshAt, expiresAt: expiresAt}
	if o.dpop != nil {
		t.ath = accessTokenHash(tr.AccessToken)
	}
	return t, nil
}

// assertionClaims is the private_key_jwt client assertion (RFC 7523).
type assertionClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	IssuedAt int64  `json:"iat"`
	Expiry   int64  `json:"exp"`
	ID       string `json:"jti"`
}

func (o *OAuth) assertion(now time.Time) (string, error) {
	payload, err := json.Marshal(assertionClaims{
		Issuer:   o.clientID,
		Subject:  o.clientID,
		Audience: o.tokenURL.String(),
		IssuedAt: now.Unix(),
		Expiry:   now.Add(assertionLifetime).Unix(),
		ID:       rand.Text(),
	})
	if err != nil {
		return "", err
	}
	jws, err := o.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign client assertion: %w", err)
	}
	return jws.CompactSerialize()
}

// isTokenChars accepts visible ASCII only, so a token can never split or
// inject a header.
func isTokenChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// printable drops anything but printable ASCII from text Okta sent, before it
// goes into an error or a log line.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return -1
		}
		return r
	}, s)
}

// scrub makes Okta's error_description safe to show: printable, clipped, and
// without the assertion or proof in case Okta echoed them.
func scrub(s string, secrets []string) string {
	s = printable(s)
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return clip(s, maxErrorText)
}
