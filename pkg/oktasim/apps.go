package oktasim

import (
	"net/http"
	"strings"
	"time"
)

// The two-state status of apps and policies.
const (
	objActive   = "ACTIVE"
	objInactive = "INACTIVE"
)

// signOnModes are the app types Okta accepts, with the catalog name Okta
// gives an app of that type when the request names none.
var signOnModes = map[string]string{
	"AUTO_LOGIN":            "",
	"BASIC_AUTH":            "",
	"BOOKMARK":              "bookmark",
	"BROWSER_PLUGIN":        "",
	"OPENID_CONNECT":        "oidc_client",
	"SAML_1_1":              "",
	"SAML_2_0":              "",
	"SECURE_PASSWORD_STORE": "",
	"WS_FEDERATION":         "",
}

type app struct {
	id, name, label, status, signOnMode string
	created, lastUpdated                time.Time
	accessibility, visibility           map[string]any
	credentials, settings, profile      map[string]any
	features                            []any
	users                               map[string]*appUser
	groups                              map[string]bool // groups assigned to the app
	ext                                 obj
}

func (a *app) target() target {
	return target{id: a.id, typ: "AppInstance", alternateID: a.label, displayName: a.label}
}

func (s *Sim) renderApp(a *app, base string) obj {
	self := base + "/api/v1/apps/" + a.id
	o := obj{
		{"id", a.id},
		{"name", a.name},
		{"label", a.label},
		{"status", a.status},
		{"lastUpdated", ts(a.lastUpdated)},
		{"created", ts(a.created)},
		{"accessibility", mapOr(a.accessibility)},
		{"visibility", mapOr(a.visibility)},
		{"features", append([]any{}, a.features...)},
		{"signOnMode", a.signOnMode},
		{"credentials", mapOr(a.credentials)},
		{"settings", mapOr(a.settings)},
	}
	if a.profile != nil {
		o = append(o, kv{"profile", a.profile})
	}
	o = append(o, a.ext...)
	links := obj{
		{"logo", []obj{{{"name", "medium"}, {"href", base + "/assets/img/logos/default.png"}, {"type", "image/png"}}}},
		{"appLinks", []obj{{{"name", a.name + "_link"}, {"href", base + "/home/" + a.name + "/" + a.id}, {"type", "text/html"}}}},
		{"groups", href(self + "/groups")},
		{"users", href(self + "/users")},
	}
	if a.status == objActive {
		links = append(links, kv{"deactivate", href(self + "/lifecycle/deactivate")})
	} else {
		links = append(links, kv{"activate", href(self + "/lifecycle/activate")})
	}
	return append(o, kv{"_links", links})
}

func (s *Sim) appOr404(id string) (*app, error) {
	if a, ok := s.apps[id]; ok {
		return a, nil
	}
	return nil, errNotFound(id, "AppInstance")
}

func (s *Sim) listApps(c *call) (int, any, error) {
	filter, err := parseFilter(c, "filter")
	if err != nil {
		return 0, nil, err
	}
	if _, err := c.boolQuery("includeNonDeleted", false); err != nil {
		return 0, nil, err
	}
	p, err := parsePage(c, appsDefault, appsMax)
	if err != nil {
		return 0, nil, err
	}
	q := strings.ToLower(c.query.Get("q"))
	var hits []*app
	for _, a := range s.apps {
		if q != "" && !strings.HasPrefix(strings.ToLower(a.name), q) && !strings.HasPrefix(strings.ToLower(a.label), q) {
			continue
		}
		if filter != nil && !filter.match(s.appGetter(a, c.base)) {
			continue
		}
		hits = append(hits, a)
	}
	sortByID(hits, func(a *app) string { return a.id })
	page, next := pageByID(hits, func(a *app) string { return a.id }, p)
	out := make([]obj, len(page))
	for i, a := range page {
		out[i] = s.renderApp(a, c.base)
	}
	c.setLinks(next)
	return http.StatusOK, out, nil
}

// appGetter adds Okta's assignment filters (user.id, group.id) to the
// app's own attributes.
func (s *Sim) appGetter(a *app, base string) func(string) []any {
	get := objectGetter(s.renderApp(a, base))
	return func(attr string) []any {
		var ids []any
		switch attr {
		case "user.id":
			for id := range a.users {
				ids = append(ids, id)
			}
			return ids
		case "group.id":
			for id := range a.groups {
				ids = append(ids, id)
			}
			return ids
		}
		return get(attr)
	}
}

func (s *Sim) getApp(c *call) (int, any, error) {
	a, err := s.appOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.renderApp(a, c.base), nil
}

// appBody validates an application body: label and a known signOnMode are
// required, and the label must not belong to another app.
func (s *Sim) appBody(c *call, selfID string) (map[string]any, error) {
	body, err := c.jsonBody()
	if err != nil {
		return nil, err
	}
	if blank(body, "label") {
		return nil, errValidation("label", "label: The field cannot be left blank")
	}
	mode := getString(body, "signOnMode")
	if _, ok := signOnModes[mode]; !ok {
		return nil, errValidation("signOnMode", "signOnMode: The value must be one of AUTO_LOGIN, BASIC_AUTH, BOOKMARK, BROWSER_PLUGIN, OPENID_CONNECT, SAML_1_1, SAML_2_0, SECURE_PASSWORD_STORE, WS_FEDERATION.")
	}
	for _, a := range s.apps {
		if a.id != selfID && strings.EqualFold(a.label, getString(body, "label")) {
			return nil, newError(http.StatusBadRequest, CodeDuplicateAppLabel, "Application label must not match an existing application label.")
		}
	}
	return body, nil
}

// applyAppBody copies the writable parts of a request onto an app, with
// Okta's defaults for the blocks the request leaves out.
func (a *app) applyAppBody(body map[string]any) {
	a.label = getString(body, "label")
	a.signOnMode = getString(body, "signOnMode")
	a.accessibility = objOr(body, "accessibility", map[string]any{"selfService": false, "errorRedirectUrl": nil, "loginRedirectUrl": nil})
	a.visibility = objOr(body, "visibility", map[string]any{
		"autoSubmitToolbar": false, "hide": map[string]any{"iOS": false, "web": false},
		"appLinks": map[string]any{a.name + "_link": true},
	})
	defCreds := map[string]any{"userNameTemplate": map[string]any{"template": "${source.login}", "type": "BUILT_IN"}, "signing": map[string]any{}}
	if a.signOnMode == "OPENID_CONNECT" {
		defCreds["oauthClient"] = map[string]any{"autoKeyRotation": true, "client_id": a.id, "token_endpoint_auth_method": "client_secret_basic"}
	}
	a.credentials = objOr(body, "credentials", defCreds)
	a.settings = objOr(body, "settings", map[string]any{"app": map[string]any{}})
	if p, ok := getMap(body, "profile"); ok {
		a.profile = cloneMap(p)
	}
	a.features = []any{}
	if f, ok := body["features"].([]any); ok {
		a.features = cloneValue(f).([]any)
	}
}

func objOr(body map[string]any, key string, def map[string]any) map[string]any {
	if m, ok := getMap(body, key); ok {
		return cloneMap(m)
	}
	return def
}

func (s *Sim) createApp(c *call) (int, any, error) {
	body, err := s.appBody(c, "")
	if err != nil {
		return 0, nil, err
	}
	activate, err := c.boolQuery("activate", true)
	if err != nil {
		return 0, nil, err
	}
	a := &app{id: s.newID(prefixApp), status: objInactive, created: c.now, lastUpdated: c.now,
		users: map[string]*appUser{}, groups: map[string]bool{}}
	a.name = getString(body, "name")
	if a.name == "" {
		a.name = signOnModes[getString(body, "signOnMode")]
	}
	if a.name == "" {
		// Custom SAML and SWA apps get a name generated from the label.
		a.name = strings.ToLower(strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, getString(body, "label"))) + "_1"
	}
	a.applyAppBody(body)
	if activate {
		a.status = objActive
	}
	s.apps[a.id] = a
	s.record(c, "application.lifecycle.create", "Add application", a.target())
	return http.StatusOK, s.renderApp(a, c.base), nil
}

func (s *Sim) replaceApp(c *call) (int, any, error) {
	a, err := s.appOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	body, err := s.appBody(c, a.id)
	if err != nil {
		return 0, nil, err
	}
	a.applyAppBody(body)
	a.lastUpdated = c.now
	s.record(c, "application.lifecycle.update", "Update application", a.target())
	return http.StatusOK, s.renderApp(a, c.base), nil
}

// deleteApp follows Okta: only an INACTIVE app can be deleted.
func (s *Sim) deleteApp(c *call) (int, any, error) {
	a, err := s.appOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	if a.status != objInactive {
		return 0, nil, newError(http.StatusForbidden, CodeAppDeleteForbidden, "Delete application forbidden.",
			"The application must be deactivated before deletion.")
	}
	delete(s.apps, a.id)
	s.record(c, "application.lifecycle.delete", "Delete application", a.target())
	return http.StatusNoContent, nil, nil
}

func (s *Sim) activateApp(c *call) (int, any, error) {
	return s.setAppStatus(c, objActive, "application.lifecycle.activate", "Activate application")
}

func (s *Sim) deactivateApp(c *call) (int, any, error) {
	return s.setAppStatus(c, objInactive, "application.lifecycle.deactivate", "Deactivate application")
}

// setAppStatus is idempotent, as Okta's app lifecycle calls are: activating
// an active app succeeds and records nothing.
func (s *Sim) setAppStatus(c *call, status, eventType, message string) (int, any, error) {
	a, err := s.appOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	if a.status != status {
		a.status = status
		a.lastUpdated = c.now
		s.record(c, eventType, message, a.target())
	}
	return http.StatusOK, obj{}, nil
}
