package catalog

import "testing"

// TestManageActionsSayWhatTheyChange checks, from the parameters alone, that
// every manage action lists an effect for each object its path names: a new
// action that acts on a user, group, app, policy or session cannot be added
// without saying so, and so cannot escape the protection rules.
func TestManageActionsSayWhatTheyChange(t *testing.T) {
	kindOf := map[string]EffectKind{
		"userId": EffectUser, "groupId": EffectGroup, "appId": EffectApp, "policyId": EffectPolicy, "sessionId": EffectUser,
	}
	for _, a := range Actions() {
		if a.Access == Read {
			if len(a.Effects) != 0 {
				t.Errorf("%s: a read lists effects %v", a.Name, a.Effects)
			}
			continue
		}
		for _, p := range a.PathParams() {
			if p == "factorId" {
				continue // a factor belongs to the user the path also names
			}
			kind, ok := kindOf[p]
			if !ok {
				t.Errorf("%s: path parameter %s names an object of no known kind", a.Name, p)
				continue
			}
			found := false
			for _, e := range a.Effects {
				if e.Name == p && e.Kind == kind && (e.From == FromPath || e.From == FromSession) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no %s effect for path parameter %s (effects %v)", a.Name, kind, p, a.Effects)
			}
		}
	}
}

// TestBodyEffects pins the effects named in request bodies: the ids Okta
// acts on that the path does not show.
func TestBodyEffects(t *testing.T) {
	want := map[string][]string{
		"users.create":           {"group groupIds"},
		"app_assignments.assign": {"user id"},
		"policies.create": {"group conditions.people.groups.include", "group conditions.people.groups.exclude",
			"user conditions.people.users.include", "user conditions.people.users.exclude"},
	}
	want["policies.replace"] = want["policies.create"]
	for _, a := range Actions() {
		var got []string
		for _, e := range a.Effects {
			if e.From == FromBody {
				got = append(got, string(e.Kind)+" "+e.Name)
			}
		}
		if len(got) != len(want[a.Name]) {
			t.Errorf("%s: body effects %v, want %v", a.Name, got, want[a.Name])
			continue
		}
		for i := range got {
			if got[i] != want[a.Name][i] {
				t.Errorf("%s: body effects %v, want %v", a.Name, got, want[a.Name])
			}
		}
	}
}

func TestCheckEffectRefusesMistakes(t *testing.T) {
	deact, _ := Lookup("user_lifecycle.deactivate")
	create, _ := Lookup("groups.create")
	bad := []struct {
		a *Action
		e Effect
	}{
		{deact, Effect{Kind: "robot", From: FromPath, Name: "userId", Aspect: "lifecycle"}},
		{deact, Effect{Kind: EffectUser, From: FromPath, Name: "groupId", Aspect: "lifecycle"}},
		{deact, Effect{Kind: EffectUser, From: FromPath, Name: "userId", Aspect: "mood"}},
		{deact, Effect{Kind: EffectUser, From: FromBody, Name: "id", Aspect: "lifecycle"}},
		{deact, Effect{Kind: EffectGroup, From: FromSession, Name: "userId", Aspect: "lifecycle"}},
		{create, Effect{Kind: EffectGroup, From: "header", Name: "x", Aspect: "settings"}},
		{create, Effect{Kind: EffectGroup, From: FromBody, Name: "", Aspect: "settings"}},
	}
	for _, b := range bad {
		if err := checkEffect(b.a, b.e); err == nil {
			t.Errorf("%s: effect %v accepted", b.a.Name, b.e)
		}
	}
}
