package bench

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/policies"
)

// destructiveAgent is who the destructive load runs as: a budget as high
// as budgetedAgent's, and, in the benchmark's copy of the shipped
// policies, apps to manage, no impact limit it could reach, no business
// hours and no confirmation, so that every call goes to Okta and is
// counted (with redis: its count and its budget in one script).
const destructiveAgent = "impact-bench-bot"

// The destructive call: deactivating an app is destructive and needs no
// lookup at Okta to be decided; the simulator answers it again and again.
const destructiveAction = "apps.deactivate"

var destructiveParams = map[string]any{"appId": oktasim.SeedAppGitHub}

// writePolicies writes the shipped policies into dir, with the changes
// that let destructiveAgent's calls all go, and returns dir.
func writePolicies(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("policy directory: %w", err)
	}
	edits := map[string]func(cfg map[string]any){
		"grants.json": func(cfg map[string]any) {
			agents := object(object(cfg, "grants"), "agents")
			agents[destructiveAgent] = map[string]any{"apps": "manage"}
		},
		"impact_limits.json": func(cfg map[string]any) {
			agents := object(object(cfg, "impact_limits"), "agents")
			agents[destructiveAgent] = map[string]any{"hour": 1 << 50, "day": 1 << 50}
		},
		"business_hours.json": func(cfg map[string]any) {
			bh := object(cfg, "business_hours")
			exempt, _ := bh["exempt_agents"].([]any)
			bh["exempt_agents"] = append(exempt, destructiveAgent)
		},
		"confirmation.json": func(cfg map[string]any) {
			object(cfg, "confirmation")["require_for_destructive"] = false
		},
	}
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(policies.FS, p)
		if err != nil {
			return err
		}
		if edit, ok := edits[p]; ok {
			var doc map[string]any
			if err := json.Unmarshal(raw, &doc); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			edit(object(object(doc, "bollard"), "config"))
			if raw, err = json.Marshal(doc); err != nil {
				return err
			}
		}
		return os.WriteFile(filepath.Join(dir, p), raw, 0o600)
	})
	if err != nil {
		return "", fmt.Errorf("write the benchmark's policies: %w", err)
	}
	return dir, nil
}

// object is m[key] as an object, made when missing.
func object(m map[string]any, key string) map[string]any {
	o, ok := m[key].(map[string]any)
	if !ok {
		o = map[string]any{}
		m[key] = o
	}
	return o
}
