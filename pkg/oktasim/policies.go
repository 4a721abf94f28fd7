package oktasim

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
)

// policyTypes are the values the type parameter and body field accept.
var policyTypes = []string{
	"OKTA_SIGN_ON", "PASSWORD", "MFA_ENROLL", "IDP_DISCOVERY", "ACCESS_POLICY",
	"PROFILE_ENROLLMENT", "CONTINUOUS_ACCESS", "ENTITY_RISK",
}

// ruleType is the type Okta gives the rules of a policy type.
func ruleType(policyType string) string {
	if policyType == "OKTA_SIGN_ON" {
		return "SIGN_ON"
	}
	return policyType
}

type policy struct {
	id, typ, name, description, status string
	priority                           int
	system                             bool
	created, lastUpdated               time.Time
	conditions, settings               map[string]any
	rules                              []*rule
	ext                                obj
}

type rule struct {
	id, name, status, typ string
	priority              int
	system                bool
	created, lastUpdated  time.Time
	conditions, actions   map[string]any
}

func (p *policy) target() target {
	return target{id: p.id, typ: "PolicyEntity", alternateID: "unknown", displayName: p.name}
}

func (s *Sim) renderPolicy(p *policy, base string, embedRules bool) obj {
	self := base + "/api/v1/policies/" + p.id
	var conditions any
	if p.conditions != nil {
		conditions = p.conditions
	}
	o := obj{
		{"type", p.typ},
		{"id", p.id},
		{"status", p.status},
		{"name", p.name},
		{"description", p.description},
		{"priority", p.priority},
		{"system", p.system},
		{"conditions", conditions},
	}
	if p.settings != nil {
		o = append(o, kv{"settings", p.settings})
	}
	o = append(o, kv{"created", ts(p.created)}, kv{"lastUpdated", ts(p.lastUpdated)})
	o = append(o, p.ext...)
	if embedRules {
		o = append(o, kv{"_embedded", obj{{"rules", s.renderRules(p, base)}}})
	}
	lifecycle := kv{"activate", hrefHints(self+"/lifecycle/activate", "POST")}
	if p.status == objActive {
		lifecycle = kv{"deactivate", hrefHints(self+"/lifecycle/deactivate", "POST")}
	}
	return append(o, kv{"_links", obj{
		{"self", hrefHints(self, "GET", "PUT", "DELETE")},
		lifecycle,
		{"rules", hrefHints(self+"/rules", "GET", "POST")},
	}})
}

func (s *Sim) renderRules(p *policy, base string) []obj {
	rules := append([]*rule(nil), p.rules...)
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].priority < rules[j].priority })
	out := make([]obj, len(rules))
	for i, r := range rules {
		self := base + "/api/v1/policies/" + p.id + "/rules/" + r.id
		out[i] = obj{
			{"type", r.typ},
			{"id", r.id},
			{"status", r.status},
			{"name", r.name},
			{"priority", r.priority},
			{"created", ts(r.created)},
			{"lastUpdated", ts(r.lastUpdated)},
			{"system", r.system},
			{"conditions", mapOr(r.conditions)},
			{"actions", mapOr(r.actions)},
			{"_links", obj{{"self", hrefHints(self, "GET", "PUT", "DELETE")}}},
		}
	}
	return out
}

func (s *Sim) policyOr404(id string) (*policy, error) {
	if p, ok := s.policies[id]; ok {
		return p, nil
	}
	return nil, errNotFound(id, "Policy")
}

func (s *Sim) listPolicies(c *call) (int, any, error) {
	typ := c.query.Get("type")
	if typ == "" {
		return 0, nil, errValidation("type", "type: The field cannot be left blank")
	}
	if !slices.Contains(policyTypes, typ) {
		return 0, nil, errValidation("type", "type: Invalid policy type "+typ)
	}
	status := c.query.Get("status")
	if status != "" && status != objActive && status != objInactive {
		return 0, nil, errValidation("status", "status: The value must be ACTIVE or INACTIVE.")
	}
	p, err := parsePage(c, policiesDefault, policiesMax)
	if err != nil {
		return 0, nil, err
	}
	var hits []*policy
	for _, pol := range s.policies {
		if pol.typ == typ && (status == "" || pol.status == status) {
			hits = append(hits, pol)
		}
	}
	sortByID(hits, func(p *policy) string { return p.id })
	page, next := pageByID(hits, func(p *policy) string { return p.id }, p)
	embed := strings.Contains(c.query.Get("expand"), "rules")
	out := make([]obj, len(page))
	for i, pol := range page {
		out[i] = s.renderPolicy(pol, c.base, embed)
	}
	c.setLinks(next)
	return http.StatusOK, out, nil
}

func (s *Sim) getPolicy(c *call) (int, any, error) {
	p, err := s.policyOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.renderPolicy(p, c.base, strings.Contains(c.query.Get("expand"), "rules")), nil
}

// policyBody validates a policy body. Names are unique per policy type.
func (s *Sim) policyBody(c *call, self *policy) (map[string]any, error) {
	body, err := c.jsonBody()
	if err != nil {
		return nil, err
	}
	typ := getString(body, "type")
	switch {
	case typ == "":
		return nil, errValidation("type", "type: The field cannot be left blank")
	case !slices.Contains(policyTypes, typ):
		return nil, errValidation("type", "type: Invalid policy type "+typ)
	case self == nil && typ == "IDP_DISCOVERY":
		return nil, errValidation("type", "type: Creating a policy of type IDP_DISCOVERY is not supported.")
	case self != nil && typ != self.typ:
		return nil, errValidation("type", "type: The type of a policy cannot be changed.")
	}
	if blank(body, "name") {
		return nil, errValidation("name", "name: The field cannot be left blank")
	}
	for _, p := range s.policies {
		if (self == nil || p.id != self.id) && p.typ == typ && strings.EqualFold(p.name, getString(body, "name")) {
			return nil, errValidation("name", "name: An object with this field already exists in the current organization")
		}
	}
	if v, ok := body["priority"]; ok && v != nil {
		if n, ok := v.(json.Number); !ok || !isPositiveInt(n) {
			return nil, errValidation("priority", "priority: The value must be a positive integer.")
		}
	}
	return body, nil
}

func isPositiveInt(n json.Number) bool {
	i, err := n.Int64()
	return err == nil && i > 0
}

func (p *policy) apply(body map[string]any) {
	p.name = getString(body, "name")
	p.description = getString(body, "description")
	if n, ok := body["priority"].(json.Number); ok {
		i, _ := n.Int64()
		p.priority = int(i)
	}
	p.conditions, _ = getMap(body, "conditions")
	p.conditions = cloneMap(p.conditions)
	if st, ok := getMap(body, "settings"); ok {
		p.settings = cloneMap(st)
	}
}

func (s *Sim) createPolicy(c *call) (int, any, error) {
	body, err := s.policyBody(c, nil)
	if err != nil {
		return 0, nil, err
	}
	activate, err := c.boolQuery("activate", true)
	if err != nil {
		return 0, nil, err
	}
	p := &policy{id: s.newID(prefixPolicy), typ: getString(body, "type"), status: objInactive, created: c.now, lastUpdated: c.now}
	// Without a priority the policy goes last.
	for _, other := range s.policies {
		if other.typ == p.typ {
			p.priority = max(p.priority, other.priority)
		}
	}
	p.priority++
	p.apply(body)
	if activate {
		p.status = objActive
	}
	s.policies[p.id] = p
	s.record(c, "policy.lifecycle.create", "Create policy", p.target())
	return http.StatusOK, s.renderPolicy(p, c.base, false), nil
}

func (s *Sim) replacePolicy(c *call) (int, any, error) {
	p, err := s.policyOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	body, err := s.policyBody(c, p)
	if err != nil {
		return 0, nil, err
	}
	p.apply(body)
	p.lastUpdated = c.now
	s.record(c, "policy.lifecycle.update", "Update policy", p.target())
	return http.StatusOK, s.renderPolicy(p, c.base, false), nil
}

// deletePolicy refuses Okta's default (system) policies.
func (s *Sim) deletePolicy(c *call) (int, any, error) {
	p, err := s.policyOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	if p.system {
		return 0, nil, errForbidden("The default policy cannot be deleted.")
	}
	delete(s.policies, p.id)
	s.record(c, "policy.lifecycle.delete", "Delete policy", p.target())
	return http.StatusNoContent, nil, nil
}

func (s *Sim) activatePolicy(c *call) (int, any, error) {
	return s.setPolicyStatus(c, objActive, "policy.lifecycle.activate", "Activate policy")
}

func (s *Sim) deactivatePolicy(c *call) (int, any, error) {
	return s.setPolicyStatus(c, objInactive, "policy.lifecycle.deactivate", "Deactivate policy")
}

// setPolicyStatus answers 204 as Okta does; a default policy cannot be
// deactivated.
func (s *Sim) setPolicyStatus(c *call, status, eventType, message string) (int, any, error) {
	p, err := s.policyOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	if p.system && status == objInactive {
		return 0, nil, errForbidden("The default policy cannot be deactivated.")
	}
	if p.status != status {
		p.status = status
		p.lastUpdated = c.now
		s.record(c, eventType, message, p.target())
	}
	return http.StatusNoContent, nil, nil
}

func (s *Sim) listPolicyRules(c *call) (int, any, error) {
	p, err := s.policyOr404(c.param(0))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.renderRules(p, c.base), nil
}
