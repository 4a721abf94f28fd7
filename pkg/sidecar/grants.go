package sidecar

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/policies"
)

// SampleGrants reads the sample agents' grants from the shipped policy data:
// agent id → area → "read" or "manage".
func SampleGrants() (map[string]map[string]string, error) {
	raw, err := policies.FS.ReadFile("grants.json")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Bollard struct {
			Config struct {
				Grants struct {
					Agents map[string]map[string]string `json:"agents"`
				} `json:"grants"`
			} `json:"config"`
		} `json:"bollard"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parse grants.json: %w", err)
	}
	return doc.Bollard.Config.Grants.Agents, nil
}

// describeGrants says in one line what an agent's grants let it do, area
// by area in the catalog's order, for dev mode's banner.
func describeGrants(g map[string]string) string {
	if len(g) == 0 {
		return "no grants"
	}
	var manage, read []string
	for _, area := range catalog.Areas() {
		switch g[area.Name] {
		case "manage":
			manage = append(manage, area.Name)
		case "read":
			read = append(read, area.Name)
		}
	}
	var parts []string
	if len(manage) > 0 {
		parts = append(parts, "manage: "+strings.Join(manage, ", "))
	}
	if len(read) > 0 {
		parts = append(parts, "read: "+strings.Join(read, ", "))
	}
	return strings.Join(parts, "; ")
}
