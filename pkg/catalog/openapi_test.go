package catalog

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	// The module ships Okta's own OpenAPI description, which this test checks
	// the catalog against; the blank import keeps it required in go.mod.
	_ "github.com/okta/okta-sdk-golang/v5/okta"
)

type openAPIParam struct {
	Ref      string `yaml:"$ref"`
	Name     string `yaml:"name"`
	In       string `yaml:"in"`
	Required bool   `yaml:"required"`
}

type openAPIOperation struct {
	Parameters  []openAPIParam        `yaml:"parameters"`
	Security    []map[string][]string `yaml:"security"`
	RequestBody yaml.Node             `yaml:"requestBody"`
}

type openAPIDoc struct {
	Paths      map[string]map[string]yaml.Node `yaml:"paths"`
	Components struct {
		Parameters map[string]openAPIParam `yaml:"parameters"`
	} `yaml:"components"`
}

var placeholder = regexp.MustCompile(`\{[^}]+\}`)

func loadOktaOpenAPI(t *testing.T) *openAPIDoc {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/okta/okta-sdk-golang/v5").Output()
	if err != nil {
		t.Fatalf("locate okta-sdk-golang module: %v", err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "okta", "api", "openapi.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read Okta OpenAPI: %v", err)
	}
	var doc openAPIDoc
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse Okta OpenAPI: %v", err)
	}
	return &doc
}

// TestCatalogMatchesOktaOpenAPI proves each entry against Okta's own API
// description: the operation exists, Okta's OAuth scope for it is the entry's
// scope, path parameters line up, every query parameter we accept is one Okta
// declares, every parameter Okta requires is required here, and a body is
// declared exactly where Okta takes one.
func TestCatalogMatchesOktaOpenAPI(t *testing.T) {
	doc := loadOktaOpenAPI(t)
	byShape := map[string]string{}
	for p := range doc.Paths {
		byShape[placeholder.ReplaceAllString(p, "{}")] = p
	}
	for _, a := range Actions() {
		t.Run(a.Name, func(t *testing.T) {
			oktaPath, ok := byShape[placeholder.ReplaceAllString(a.Path, "{}")]
			if !ok {
				t.Fatalf("path %s not in Okta's OpenAPI", a.Path)
			}
			item := doc.Paths[oktaPath]
			node, ok := item[strings.ToLower(a.Method)]
			if !ok {
				t.Fatalf("%s %s not in Okta's OpenAPI", a.Method, oktaPath)
			}
			var op openAPIOperation
			if err := node.Decode(&op); err != nil {
				t.Fatalf("decode operation: %v", err)
			}
			var scopes []string
			for _, s := range op.Security {
				scopes = append(scopes, s["oauth2"]...)
			}
			if len(scopes) != 1 || scopes[0] != a.Scope {
				t.Errorf("scope = %q, Okta lists %v", a.Scope, scopes)
			}

			var pathItem struct {
				Parameters []openAPIParam `yaml:"parameters"`
			}
			if err := decodePathItem(item, &pathItem); err != nil {
				t.Fatalf("decode path item: %v", err)
			}
			oktaQuery := map[string]bool{}
			var oktaPathParams []string
			for _, p := range append(op.Parameters, pathItem.Parameters...) {
				if p.Ref != "" {
					p = doc.Components.Parameters[p.Ref[strings.LastIndex(p.Ref, "/")+1:]]
				}
				switch p.In {
				case "query":
					oktaQuery[p.Name] = true
					if p.Required {
						if ours, ok := a.Param(p.Name); !ok || !ours.Required {
							// Okta marks sendEmail required on activate but defaults it in practice.
							if !(a.Name == "user_lifecycle.activate" && p.Name == "sendEmail") {
								t.Errorf("Okta requires query parameter %s", p.Name)
							}
						}
					}
				case "path":
					oktaPathParams = append(oktaPathParams, p.Name)
				}
			}
			if got, want := len(a.PathParams()), len(oktaPathParams); got != want {
				t.Errorf("path parameters %v, Okta has %v", a.PathParams(), oktaPathParams)
			}
			hasBody := false
			for _, p := range a.Params {
				switch p.In {
				case InQuery:
					if !oktaQuery[p.Name] {
						t.Errorf("query parameter %s is not one Okta declares", p.Name)
					}
				case InBody:
					hasBody = true
				}
			}
			if hasBody != (op.RequestBody.Kind != 0) {
				t.Errorf("body declared = %v, Okta takes a body = %v", hasBody, op.RequestBody.Kind != 0)
			}
		})
	}
}

// TestLookupsMatchOktaOpenAPI: Bollard's own lookups exist in Okta's API
// with the method and the scope the catalog gives them (the scope an OAuth
// service app must be granted).
func TestLookupsMatchOktaOpenAPI(t *testing.T) {
	doc := loadOktaOpenAPI(t)
	byShape := map[string]string{}
	for p := range doc.Paths {
		byShape[placeholder.ReplaceAllString(p, "{}")] = p
	}
	for _, a := range Lookups() {
		oktaPath, ok := byShape[placeholder.ReplaceAllString(a.Path, "{}")]
		if !ok {
			t.Errorf("%s: path %s not in Okta's OpenAPI", a.Name, a.Path)
			continue
		}
		node, ok := doc.Paths[oktaPath][strings.ToLower(a.Method)]
		if !ok {
			t.Errorf("%s: %s %s not in Okta's OpenAPI", a.Name, a.Method, oktaPath)
			continue
		}
		var op openAPIOperation
		if err := node.Decode(&op); err != nil {
			t.Fatalf("decode operation: %v", err)
		}
		var scopes []string
		for _, s := range op.Security {
			scopes = append(scopes, s["oauth2"]...)
		}
		if len(scopes) != 1 || scopes[0] != a.Scope {
			t.Errorf("%s: scope = %q, Okta lists %v", a.Name, a.Scope, scopes)
		}
		if _, registered := Lookup(a.Name); registered {
			t.Errorf("%s is registered as an action: an agent could name it", a.Name)
		}
	}
}

func decodePathItem(item map[string]yaml.Node, out any) error {
	n, ok := item["parameters"]
	if !ok {
		return nil
	}
	wrapper := map[string]yaml.Node{"parameters": n}
	raw, err := yaml.Marshal(wrapper)
	if err != nil {
		return err
	}
	return yaml.Unmarshal(raw, out)
}
