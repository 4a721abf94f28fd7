package chart

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// passThrough are values holding Kubernetes objects (EnvVar, Toleration,
// Affinity, NetworkPolicyPeer lists...) that the schema does not restate;
// they are decoded strictly into the API types by TestRender instead.
var passThrough = map[string]bool{
	"/global": true, "/agent/affinity": true,
	"/agent/env/items": true, "/env/items": true, "/agent/tolerations/items": true,
	"/networkPolicy/otlpPeers/items": true, "/networkPolicy/hooksFrom/items": true,
	"/networkPolicy/metricsFrom/items": true, "/networkPolicy/extraEgress/items": true, "/networkPolicy/redisTo/items": true,
	"/approver/affinity": true, "/approver/env/items": true, "/approver/tolerations/items": true,
	"/approver/networkPolicy/grpcFrom/items": true, "/approver/networkPolicy/consoleFrom/items": true,
	"/approver/networkPolicy/metricsFrom/items": true, "/approver/networkPolicy/extraEgress/items": true,
}

// TestSchemaDescribesEverything checks that values.schema.json describes
// every value and closes every object it defines: an unknown key is an
// error everywhere but in the Kubernetes objects passed through.
func TestSchemaDescribesEverything(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, s map[string]any)
	walk = func(path string, s map[string]any) {
		if path != "" && s["description"] == nil && !isItems(path) {
			t.Errorf("%s has no description", path)
		}
		if s["type"] == "object" && !passThrough[path] {
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if ap {
					t.Errorf("%s allows unknown keys", path)
				}
			case map[string]any: // a map whose values have a schema
				walk(path+"/*", ap)
			default:
				t.Errorf("%s does not set additionalProperties", path)
			}
		}
		if props, ok := s["properties"].(map[string]any); ok {
			for name, p := range props {
				walk(path+"/"+name, p.(map[string]any))
			}
		}
		if items, ok := s["items"].(map[string]any); ok {
			walk(path+"/items", items)
		}
	}
	walk("", schema)
}

func isItems(path string) bool {
	return filepath.Base(path) == "items" || filepath.Base(path) == "*"
}
