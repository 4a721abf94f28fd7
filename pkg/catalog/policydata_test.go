package catalog

import "testing"

func TestPolicyDataCoversEveryAction(t *testing.T) {
	d := PolicyData()
	actions := d["actions"].(map[string]any)
	if len(actions) != len(Actions()) {
		t.Fatalf("PolicyData has %d actions, catalog %d", len(actions), len(Actions()))
	}
	areas := d["areas"].(map[string]any)
	seen := 0
	for _, ar := range Areas() {
		names := areas[ar.Name].(map[string]any)["actions"].([]any)
		for _, n := range names {
			a, ok := actions[n.(string)].(map[string]any)
			if !ok {
				t.Fatalf("area %s lists %v, which has no action entry", ar.Name, n)
			}
			if a["area"] != ar.Name {
				t.Errorf("%v: area %v, listed under %s", n, a["area"], ar.Name)
			}
			seen++
		}
	}
	if seen != len(actions) {
		t.Errorf("areas list %d actions, want %d", seen, len(actions))
	}
	del := actions["users.delete"].(map[string]any)
	if del["destructive"] != true || del["access"] != "manage" || del["scope"] != "okta.users.manage" || del["paginated"] != false {
		t.Errorf("users.delete = %v", del)
	}
	if actions["users.list"].(map[string]any)["paginated"] != true {
		t.Error("users.list is paginated")
	}
	effects := actions["groups.add_member"].(map[string]any)["effects"].([]any)
	if len(effects) != 2 || effects[0].(map[string]any)["kind"] != "group" || effects[1].(map[string]any)["name"] != "userId" {
		t.Errorf("groups.add_member effects = %v", effects)
	}
	if got := actions["users.get"].(map[string]any)["effects"].([]any); len(got) != 0 {
		t.Errorf("a read lists effects %v", got)
	}
	// Fresh maps: a caller's change does not leak into the next call.
	del["destructive"] = false
	if PolicyData()["actions"].(map[string]any)["users.delete"].(map[string]any)["destructive"] != true {
		t.Error("PolicyData shares its maps between calls")
	}
}
