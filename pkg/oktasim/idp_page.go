package oktasim

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"strings"
)

// pageStyle is the pages' only style, inline: they load nothing, and the
// Content-Security-Policy allows this style by its hash and nothing else.
const pageStyle = `body{font-family:system-ui,sans-serif;background:#f4f4f6;margin:0}` +
	`main{max-width:22rem;margin:4rem auto;background:#fff;padding:2rem;border:1px solid #ddd;border-radius:6px}` +
	`h1{font-size:1.4rem;margin:0 0 .25rem}p{margin:.25rem 0 1rem;color:#444}` +
	`label{display:block;margin:.75rem 0 .25rem;font-weight:600}` +
	`input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}` +
	`button{margin-top:1.25rem;width:100%;padding:.6rem;font-size:1rem}` +
	`.error{color:#a4000f;font-weight:600}.note{font-size:.8rem;color:#666;margin-top:1.5rem}`

var styleHash = func() string {
	sum := sha256.Sum256([]byte(pageStyle))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// The element ids are those of Okta's sign-in widget, so that a browser
// test finds the fields where it would at Okta.
var pages = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign In</title><style>{{.Style}}</style></head>
<body><main>
<h1>Sign In</h1>
<p>to {{.App}}</p>
{{if .Error}}<p class="error" role="alert" id="okta-signin-error">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}" id="form">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<label for="okta-signin-username">Username</label>
<input id="okta-signin-username" name="username" type="text" autocomplete="username" value="{{.Username}}" required autofocus>
<label for="okta-signin-password">Password</label>
<input id="okta-signin-password" name="password" type="password" autocomplete="current-password" required>
<button id="okta-signin-submit" type="submit">Sign In</button>
</form>
<p class="note">Okta simulator: for tests and dev mode only.</p>
</main></body></html>
`))

var errorTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>400 Bad Request</title><style>{{.Style}}</style></head>
<body><main>
<h1>400 Bad Request</h1>
<p class="error" role="alert">Error code: <span id="error-code">{{.Code}}</span></p>
<p id="error-description">{{.Desc}}</p>
</main></body></html>
`))

type hiddenField struct{ Name, Value string }

// signInPage shows the sign-in form for an authorization request: the
// request's parameters ride along as hidden fields, so the POST carries
// everything and no cookie is needed.
func signInPage(h http.Header, action string, ar *authzRequest, username, errMsg string) reply {
	hidden := []hiddenField{
		{"client_id", ar.client.ClientID}, {"redirect_uri", ar.redirectURI}, {"response_type", "code"},
		{"scope", strings.Join(ar.scopes, " ")}, {"state", ar.state},
		{"code_challenge", ar.challenge}, {"code_challenge_method", "S256"},
	}
	if ar.nonce != "" {
		hidden = append(hidden, hiddenField{"nonce", ar.nonce})
	}
	if ar.mode != "" {
		hidden = append(hidden, hiddenField{"response_mode", ar.mode})
	}
	var b bytes.Buffer
	err := pages.Execute(&b, struct {
		Style                        template.CSS
		App, Action, Username, Error string
		Hidden                       []hiddenField
	}{template.CSS(pageStyle), ar.client.Name, action, username, errMsg, hidden})
	if err != nil {
		return errorPage(h, "server_error", "The sign-in page could not be rendered.")
	}
	// form-action must allow the redirect URI's origin too: browsers apply
	// it to the redirect that answers the form.
	setPageHeaders(h, "'self' "+ar.client.origins[ar.redirectURI])
	return reply{status: http.StatusOK, payload: b.Bytes(), contentType: "text/html; charset=utf-8"}
}

// errorPage is the 400 page for a request that cannot be sent back to a
// client.
func errorPage(h http.Header, code, desc string) reply {
	var b bytes.Buffer
	_ = errorTemplate.Execute(&b, struct {
		Style      template.CSS
		Code, Desc string
	}{template.CSS(pageStyle), code, desc})
	setPageHeaders(h, "'none'")
	return reply{status: http.StatusBadRequest, payload: b.Bytes(), contentType: "text/html; charset=utf-8"}
}

func setPageHeaders(h http.Header, formAction string) {
	h.Set("Content-Security-Policy", "default-src 'none'; style-src "+styleHash+"; form-action "+formAction+
		"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}
