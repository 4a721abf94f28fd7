package catalog

import (
	"fmt"
	"strings"
)

// EffectKind is the kind of Okta object an action changes.
type EffectKind string

// The kinds of object an action may change. Policies protect each kind
// (protected users, groups, apps, policies) by what an action does to it,
// not by a list of action names.
const (
	EffectUser   EffectKind = "user"
	EffectGroup  EffectKind = "group"
	EffectApp    EffectKind = "app"
	EffectPolicy EffectKind = "policy"
)

// Source says where a call names the object an effect changes.
type Source string

// The places a call names what it changes.
const (
	// FromPath: a path parameter; Effect.Name is its name.
	FromPath Source = "path"
	// FromBody: a member of the request body, a string or a list of
	// strings; Effect.Name is its dotted path ("groupIds",
	// "conditions.people.groups.include"). Absent means the call names none.
	FromBody Source = "body"
	// FromSession: the user whose session is named by the path parameter
	// Effect.Name; only Okta knows who that is, so it is looked up.
	FromSession Source = "session"
)

// Effect is one thing an action changes at Okta: which object (Kind, named
// where From and Name say) and what about it (Aspect).
type Effect struct {
	Kind EffectKind
	From Source
	Name string
	// Aspect says what changes, for rules that care: "account" (profile or
	// credentials), "lifecycle" (status, deletion), "membership",
	// "assignment" (app access), "factors", "sessions", "settings", or
	// "people" (whom a policy applies to).
	Aspect string
}

// String is the effect as docs show it, e.g. "user (path userId): lifecycle".
func (e Effect) String() string {
	return fmt.Sprintf("%s (%s %s): %s", e.Kind, e.From, e.Name, e.Aspect)
}

// Aspects an action's effect may have.
var aspects = map[string]bool{
	"account": true, "lifecycle": true, "membership": true, "assignment": true,
	"factors": true, "sessions": true, "settings": true, "people": true,
}

func pathUserEffect(aspect string) Effect {
	return Effect{Kind: EffectUser, From: FromPath, Name: "userId", Aspect: aspect}
}

func pathEffect(kind EffectKind, param, aspect string) Effect {
	return Effect{Kind: kind, From: FromPath, Name: param, Aspect: aspect}
}

// policyPeople are the users and groups a policy's conditions name: putting
// a group under a weaker sign-on policy, or excluding it from an MFA
// policy, changes what its members must do to sign in.
var policyPeople = []Effect{
	{Kind: EffectGroup, From: FromBody, Name: "conditions.people.groups.include", Aspect: "people"},
	{Kind: EffectGroup, From: FromBody, Name: "conditions.people.groups.exclude", Aspect: "people"},
	{Kind: EffectUser, From: FromBody, Name: "conditions.people.users.include", Aspect: "people"},
	{Kind: EffectUser, From: FromBody, Name: "conditions.people.users.exclude", Aspect: "people"},
}

// effects states what every manage action changes. Every manage action is
// listed, those that change no existing object with an empty list, so that
// a new action cannot be added without saying what it touches (init checks
// it); reads change nothing.
var effects = map[string][]Effect{
	"users.create":  {{Kind: EffectGroup, From: FromBody, Name: "groupIds", Aspect: "membership"}},
	"users.update":  {pathUserEffect("account")},
	"users.replace": {pathUserEffect("account")},
	"users.delete":  {pathUserEffect("lifecycle")},

	"user_lifecycle.activate":   {pathUserEffect("lifecycle")},
	"user_lifecycle.deactivate": {pathUserEffect("lifecycle")},
	"user_lifecycle.reactivate": {pathUserEffect("lifecycle")},
	"user_lifecycle.suspend":    {pathUserEffect("lifecycle")},
	"user_lifecycle.unsuspend":  {pathUserEffect("lifecycle")},
	"user_lifecycle.unlock":     {pathUserEffect("lifecycle")},

	"groups.create":        {},
	"groups.replace":       {pathEffect(EffectGroup, "groupId", "settings")},
	"groups.delete":        {pathEffect(EffectGroup, "groupId", "lifecycle")},
	"groups.add_member":    {pathEffect(EffectGroup, "groupId", "membership"), pathUserEffect("membership")},
	"groups.remove_member": {pathEffect(EffectGroup, "groupId", "membership"), pathUserEffect("membership")},

	"apps.create":     {},
	"apps.replace":    {pathEffect(EffectApp, "appId", "settings")},
	"apps.delete":     {pathEffect(EffectApp, "appId", "lifecycle")},
	"apps.activate":   {pathEffect(EffectApp, "appId", "lifecycle")},
	"apps.deactivate": {pathEffect(EffectApp, "appId", "lifecycle")},

	"app_assignments.assign": {pathEffect(EffectApp, "appId", "assignment"),
		{Kind: EffectUser, From: FromBody, Name: "id", Aspect: "assignment"}},
	"app_assignments.update":   {pathEffect(EffectApp, "appId", "assignment"), pathUserEffect("assignment")},
	"app_assignments.unassign": {pathEffect(EffectApp, "appId", "assignment"), pathUserEffect("assignment")},

	"sessions.refresh": {{Kind: EffectUser, From: FromSession, Name: "sessionId", Aspect: "sessions"}},
	"sessions.revoke":  {{Kind: EffectUser, From: FromSession, Name: "sessionId", Aspect: "sessions"}},

	"policies.create":     policyPeople,
	"policies.replace":    append([]Effect{pathEffect(EffectPolicy, "policyId", "settings")}, policyPeople...),
	"policies.delete":     {pathEffect(EffectPolicy, "policyId", "lifecycle")},
	"policies.activate":   {pathEffect(EffectPolicy, "policyId", "lifecycle")},
	"policies.deactivate": {pathEffect(EffectPolicy, "policyId", "lifecycle")},

	"factors.enroll":   {pathUserEffect("factors")},
	"factors.unenroll": {pathUserEffect("factors")},
}

// attachEffects copies the effects table into the actions and checks it:
// every manage action is listed, no read is, and each effect names a
// parameter the action has. A mistake panics at start-up, like the other
// catalog checks, because a missing effect is an unprotected action.
func attachEffects() {
	for name := range effects {
		if _, ok := byName[name]; !ok {
			panic("catalog: effects listed for unknown action " + name)
		}
	}
	for _, a := range ordered {
		list, ok := effects[a.Name]
		switch {
		case a.Access == Manage && !ok:
			panic("catalog: manage action " + a.Name + " does not say what it changes (effects)")
		case a.Access == Read && ok:
			panic("catalog: read action " + a.Name + " lists effects")
		}
		for _, e := range list {
			if err := checkEffect(a, e); err != nil {
				panic("catalog: " + a.Name + ": " + err.Error())
			}
		}
		a.Effects = list
	}
}

func checkEffect(a *Action, e Effect) error {
	switch e.Kind {
	case EffectUser, EffectGroup, EffectApp, EffectPolicy:
	default:
		return fmt.Errorf("effect kind %q", e.Kind)
	}
	if !aspects[e.Aspect] {
		return fmt.Errorf("effect aspect %q", e.Aspect)
	}
	switch e.From {
	case FromPath, FromSession:
		p, ok := a.Param(e.Name)
		if !ok || p.In != InPath {
			return fmt.Errorf("effect names path parameter %q, which the action does not have", e.Name)
		}
		if e.From == FromSession && e.Kind != EffectUser {
			return fmt.Errorf("a session names a user, not a %s", e.Kind)
		}
	case FromBody:
		p, ok := a.Param("body")
		if !ok || p.In != InBody || e.Name == "" || strings.Contains(e.Name, "..") {
			return fmt.Errorf("effect names body member %q of an action without a body", e.Name)
		}
	default:
		return fmt.Errorf("effect source %q", e.From)
	}
	return nil
}

// Touches reports whether the action changes an object of the kind.
func (a *Action) Touches(kind EffectKind) bool {
	for _, e := range a.Effects {
		if e.Kind == kind {
			return true
		}
	}
	return false
}
