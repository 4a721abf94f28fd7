package policytool

import (
	"maps"
	"strings"
	"testing"
)

// lintBase is a small clean policy with library data.
var lintBase = map[string]string{
	"authz.rego": `package bollard.authz

import input.action

decision := {"allow": allow, "deny": [], "obligations": {"require_confirmation": false}}

default allow := false

allow if data.bollard.config.grants.agents[input.agent.id][action.area] == "read"

allow if action.name in {"users.list", "users.get"}
`,
	"authz_test.rego": `package bollard.authz_test

import data.bollard.authz

# Tests may use names outside the catalog on purpose.
test_unknown_action_denied if {
	not authz.allow with input.action.name as "nope.nothing"
}
`,
	"grants.json": `{"bollard": {"config": {"grants": {
  "agents": {
    "reader-bot": {"users": "read", "logs": "read"}
  },
  "actions": {
    "reader-bot": {"allow": ["users.get"], "deny": ["users.delete"]}
  }
}}}}
`,
}

func TestLintShippedPolicies(t *testing.T) {
	r := runLint(t, shipped)
	r.wantCode(t, 0)
	if r.stdout != "" {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}

func TestLint(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string // replaced or added to lintBase; "" removes
		want  []string          // lines of output, in order
	}{
		{name: "clean"},
		{
			name: "misspelled action in data",
			files: map[string]string{"grants.json": `{"bollard": {"config": {"grants": {
  "actions": {
    "reader-bot": {
      "allow": ["users.get", "users.lst"],
      "deny": ["users.delete"]
    }
  }
}}}}`},
			want: []string{`grants.json:4: agent "reader-bot": unknown action "users.lst" in allow (did you mean "users.list"?)`},
		},
		{
			name: "unknown area and bad access level",
			files: map[string]string{"grants.json": `{"bollard": {"config": {"grants": {"agents": {
  "reader-bot": {"users": "read"},
  "helper": {
    "userz": "read",
    "groups": "admin"
  }
}}}}}`},
			want: []string{
				`grants.json:4: agent "helper": unknown area "userz" (did you mean "users"?)`,
				`grants.json:5: agent "helper": access level "admin" on area "groups" must be "read" or "manage"`,
			},
		},
		{
			name:  "unknown key in action grants",
			files: map[string]string{"grants.json": `{"bollard": {"config": {"grants": {"actions": {"a": {"alow": ["users.get"]}}}}}}`},
			want:  []string{`grants.json:1: agent "a": unknown key "alow" in action grants (allow or deny)`},
		},
		{
			name: "page sizes by area",
			files: map[string]string{"read_shaping.json": `{"bollard": {"config": {"read_shaping": {"page_size": {
  "default": {"users": 200, "logz": 100},
  "agents": {"reader-bot": -1}
}}}}}`},
			want: []string{
				`read_shaping.json:2: page size for default: unknown area "logz" (did you mean "logs"?)`,
				`read_shaping.json:3: page size for agent "reader-bot" must be a positive integer or an object keyed by area, not -1`,
			},
		},
		{
			name:  "action names anywhere in the library's data",
			files: map[string]string{"confirmation.json": "{\"bollard\": {\"config\": {\"confirmation\": {\n  \"always\": [\"groups.delete\", \"groups.remove_membr\"]\n}}}}"},
			want:  []string{`confirmation.json:2: unknown action "groups.remove_membr" (did you mean "groups.remove_member"?)`},
		},
		{
			name:  "data in a subdirectory",
			files: map[string]string{"bollard/config/grants/data.json": "{\"agents\": {\n  \"x\": {\"sesions\": \"read\"}\n}}", "grants.json": ""},
			want:  []string{`bollard/config/grants/data.json:2: agent "x": unknown area "sesions" (did you mean "sessions"?)`},
		},
		{
			name: "misspelled literals in rego",
			files: map[string]string{"extra.rego": `package bollard.extra

import data.bollard.catalog

a if input.action.name == "users.lst"

b if "user" != input.action.area

c if {
	act := input.action
	act.name in ["users.get", "user.get"]
}

d if {"groups.list": 1, "group.list": 2}[input.action.name]

e := catalog.actions["apps.lst"].scope

f := data.bollard.catalog.areas.logz
`},
			want: []string{
				`extra.rego:5: "users.lst" is not a catalog action (compared with input.action.name) (did you mean "users.list"?)`,
				`extra.rego:7: "user" is not a catalog area (compared with input.action.area) (did you mean "users"?)`,
				`extra.rego:11: "user.get" is not a catalog action (compared with input.action.name) (did you mean "users.get"?)`,
				`extra.rego:14: "group.list" is not a catalog action (looked up with input.action.name) (did you mean "groups.list"?)`,
				`extra.rego:16: "apps.lst" is not a catalog action (used as a key of data.bollard.catalog.actions) (did you mean "apps.list"?)`,
				`extra.rego:18: "logz" is not a catalog area (used as a key of data.bollard.catalog.areas) (did you mean "logs"?)`,
			},
		},
		{
			name:  "strict mode",
			files: map[string]string{"extra.rego": "package bollard.extra\n\nimport data.bollard.config\n\nx if {\n\ty := 1\n}\n"},
			want: []string{
				"extra.rego:3: rego_compile_error: import data.bollard.config unused",
				"extra.rego:6: rego_compile_error: assigned var y unused",
			},
		},
		{
			name:  "no decision",
			files: map[string]string{"authz.rego": "package bollard.authz\n\nallow := true\n", "authz_test.rego": ""},
			want:  []string{": no policy defines data.bollard.authz.decision: the sidecar refuses it"},
		},
		{
			name:  "catalog data is reserved",
			files: map[string]string{"catalog.json": `{"bollard": {"catalog": {}}}`},
			want:  []string{"catalog.json:1: data.bollard.catalog is reserved: Bollard loads the action catalog there"},
		},
		{
			name:  "parse error",
			files: map[string]string{"extra.rego": "package bollard.extra\n\nx if {\n"},
			want:  []string{"extra.rego:4: rego_parse_error: unexpected eof token"},
		},
		{
			name:  "bad JSON",
			files: map[string]string{"extra.json": "{\n  \"a\": 1,\n}\n"},
			want:  []string{"extra.json:3: invalid JSON: invalid character '}' looking for beginning of object key string"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := maps.Clone(lintBase)
			for k, v := range tc.files {
				if v == "" {
					delete(files, k)
				} else {
					files[k] = v
				}
			}
			dir := writeFiles(t, files)
			r := runLint(t, dir)
			if len(tc.want) == 0 {
				r.wantCode(t, 0)
				return
			}
			r.wantCode(t, ExitFail)
			var got []string
			for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
				if strings.HasPrefix(l, dir) { // the first line of each problem
					got = append(got, strings.TrimPrefix(strings.TrimPrefix(l, dir), "/"))
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestLintUsage(t *testing.T) {
	runLint(t).wantCode(t, ExitError)
	runLint(t, t.TempDir()+"/missing").wantCode(t, ExitError)
}
