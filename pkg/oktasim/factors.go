package oktasim

import (
	"net/http"
	"slices"
	"sort"
	"time"
)

const (
	factorActive  = "ACTIVE"
	factorPending = "PENDING_ACTIVATION"
)

// factorKind describes a factor type the API can enroll: Okta's id prefix
// for it, the providers it accepts (the first is the default), the profile
// field it needs and whether it is usable without an activation step.
type factorKind struct {
	prefix    string
	providers []string
	needs     []string
	active    bool
}

var factorKinds = map[string]factorKind{
	"sms":                 {prefix: "mbl", providers: []string{"OKTA"}, needs: []string{"phoneNumber"}},
	"call":                {prefix: "clf", providers: []string{"OKTA"}, needs: []string{"phoneNumber"}},
	"email":               {prefix: "emf", providers: []string{"OKTA"}, needs: []string{"email"}},
	"push":                {prefix: "opf", providers: []string{"OKTA"}},
	"token:software:totp": {prefix: "uft", providers: []string{"OKTA", "GOOGLE"}},
	"question":            {prefix: "ufs", providers: []string{"OKTA"}, needs: []string{"question", "answer"}, active: true},
	"webauthn":            {prefix: "fwf", providers: []string{"FIDO"}},
}

type factor struct {
	id, userID, factorType, provider, vendorName, status string
	created, lastUpdated                                 time.Time
	profile                                              map[string]any
	ext                                                  obj
}

// oktaVerify reports whether a factor belongs to the Okta Verify app: Okta
// unenrolls all of them together when push or FastPass is removed.
func (f *factor) oktaVerify() bool {
	return f.provider == "OKTA" && (f.factorType == "push" || f.factorType == "signed_nonce" || f.factorType == "token:software:totp")
}

func (s *Sim) renderFactor(f *factor, base string) obj {
	self := base + "/api/v1/users/" + f.userID + "/factors/" + f.id
	o := obj{
		{"id", f.id},
		{"factorType", f.factorType},
		{"provider", f.provider},
		{"vendorName", f.vendorName},
		{"status", f.status},
		{"created", ts(f.created)},
		{"lastUpdated", ts(f.lastUpdated)},
		{"profile", mapOr(f.profile)},
	}
	o = append(o, f.ext...)
	links := obj{{"self", hrefHints(self, "GET", "DELETE")}}
	if f.status == factorPending {
		links = append(links, kv{"activate", hrefHints(self+"/lifecycle/activate", "POST")})
	} else {
		links = append(links, kv{"verify", hrefHints(self+"/verify", "POST")})
	}
	links = append(links, kv{"user", hrefHints(base+"/api/v1/users/"+f.userID, "GET")})
	o = append(o, kv{"_links", links})
	if f.status == factorPending && f.factorType == "token:software:totp" {
		// The QR code's URL carries a token that renders the shared secret,
		// as at Okta. Both derive from the factor so that rendering draws no
		// randomness.
		o = append(o, kv{"_embedded", obj{{"activation", obj{
			{"timeStep", 30}, {"sharedSecret", s.marker + "JBSWY3DPEHPK3PXP"}, {"encoding", "base32"}, {"keyLength", 6},
			{"_links", obj{{"qrcode", obj{{"href", self + "/qr/" + s.marker + "00f" + f.id}, {"type", "image/png"}}}}},
		}}}})
	}
	return o
}

// factorUser resolves the {userId} of a factor route; Okta accepts only the
// user id here.
func (s *Sim) factorUser(c *call) (*user, error) {
	if u, ok := s.users[c.param(0)]; ok {
		return u, nil
	}
	return nil, errNotFound(c.param(0), "User")
}

func (s *Sim) userFactors(userID string) []*factor {
	var out []*factor
	for _, f := range s.factors {
		if f.userID == userID {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].created.Equal(out[j].created) {
			return out[i].created.Before(out[j].created)
		}
		return out[i].id < out[j].id
	})
	return out
}

func (s *Sim) listFactors(c *call) (int, any, error) {
	u, err := s.factorUser(c)
	if err != nil {
		return 0, nil, err
	}
	fs := s.userFactors(u.id)
	out := make([]obj, len(fs))
	for i, f := range fs {
		out[i] = s.renderFactor(f, c.base)
	}
	return http.StatusOK, out, nil
}

func (s *Sim) factorOr404(c *call) (*user, *factor, error) {
	u, err := s.factorUser(c)
	if err != nil {
		return nil, nil, err
	}
	f, ok := s.factors[c.param(1)]
	if !ok || f.userID != u.id {
		return nil, nil, errNotFound(c.param(1), "UserFactor")
	}
	return u, f, nil
}

func (s *Sim) getFactor(c *call) (int, any, error) {
	_, f, err := s.factorOr404(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.renderFactor(f, c.base), nil
}

func (s *Sim) enrollFactor(c *call) (int, any, error) {
	u, err := s.factorUser(c)
	if err != nil {
		return 0, nil, err
	}
	body, err := c.jsonBody()
	if err != nil {
		return 0, nil, err
	}
	activate, err := c.boolQuery("activate", false)
	if err != nil {
		return 0, nil, err
	}
	if _, err := c.boolQuery("updatePhone", false); err != nil {
		return 0, nil, err
	}
	typ := getString(body, "factorType")
	if typ == "signed_nonce" {
		return 0, nil, errValidation("factorType", "factorType: Okta FastPass is enrolled from Okta Verify, not through the API.")
	}
	kind, ok := factorKinds[typ]
	if !ok {
		return 0, nil, errValidation("factorType", "factorType: The factor type is not supported.")
	}
	provider := getString(body, "provider")
	if provider == "" {
		provider = kind.providers[0]
	}
	if !slices.Contains(kind.providers, provider) {
		return 0, nil, errValidation("provider", "provider: The provider is not supported for this factor type.")
	}
	profile, _ := getMap(body, "profile")
	for _, field := range kind.needs {
		if blank(profile, field) {
			return 0, nil, errValidation("profile", "profile."+field+": The field cannot be left blank")
		}
	}
	for _, f := range s.userFactors(u.id) {
		if f.factorType == typ && f.provider == provider {
			return 0, nil, errValidation("factorEnrollRequest", "A factor of this type is already set up.")
		}
	}
	f := &factor{id: s.newID(kind.prefix), userID: u.id, factorType: typ, provider: provider, vendorName: provider,
		status: factorPending, created: c.now, lastUpdated: c.now, profile: cloneMap(profile)}
	if typ == "question" {
		// The answer is write-only, as in Okta.
		delete(f.profile, "answer")
		f.profile["questionText"] = getString(profile, "question")
	}
	if kind.active || (activate && kind.needs != nil) {
		f.status = factorActive
	}
	s.factors[f.id] = f
	if f.status == factorActive {
		s.record(c, "user.mfa.factor.activate", "Activate factor or authenticator", u.target())
	} else {
		s.record(c, "user.mfa.factor.update", "Enroll factor or authenticator", u.target())
	}
	return http.StatusOK, s.renderFactor(f, c.base), nil
}

func (s *Sim) unenrollFactor(c *call) (int, any, error) {
	u, f, err := s.factorOr404(c)
	if err != nil {
		return 0, nil, err
	}
	if _, err := c.boolQuery("removeRecoveryEnrollment", false); err != nil {
		return 0, nil, err
	}
	gone := []*factor{f}
	if f.factorType == "push" || f.factorType == "signed_nonce" {
		for _, other := range s.userFactors(u.id) {
			if other != f && other.oktaVerify() {
				gone = append(gone, other)
			}
		}
	}
	for _, g := range gone {
		delete(s.factors, g.id)
		s.record(c, "user.mfa.factor.deactivate", "Reset factor for user", u.target())
	}
	return http.StatusNoContent, nil, nil
}
