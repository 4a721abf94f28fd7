package policytool

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

// dataLinter checks one data file's library settings against the catalog
// and reports problems at the line of the offending key or value.
type dataLinter struct {
	f      dataFile
	lines  map[string]int // in-file path -> line
	prefix int            // path segments the file's directory adds
	probs  []problem
}

func lintData(f dataFile) []problem {
	root, err := ast.JSON(f.doc)
	if err != nil {
		return nil
	}
	cfg, ok := dig(root, "bollard", "config").(map[string]any)
	if !ok {
		return nil
	}
	l := &dataLinter{f: f, lines: jsonLines(f.raw)}
	if dir := strings.Trim(pathDir(f.rel), "/"); dir != "" {
		l.prefix = strings.Count(dir, "/") + 1
	}
	base := []string{"bollard", "config"}
	if g, ok := cfg["grants"]; ok {
		l.grants(append(slices.Clip(base), "grants"), g)
	}
	if ps := dig(cfg, "read_shaping", "page_size"); ps != nil {
		l.pageSizes(append(slices.Clip(base), "read_shaping", "page_size"), ps)
	}
	for k, v := range cfg {
		if k != "grants" {
			l.names(append(slices.Clip(base), k), v)
		}
	}
	return l.probs
}

func pathDir(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return ""
}

func (l *dataLinter) add(path []string, format string, args ...any) {
	in := path
	if l.prefix <= len(in) {
		in = in[l.prefix:]
	}
	// The nearest enclosing key that has a line.
	row := 0
	for n := len(in); n >= 0 && row == 0; n-- {
		row = l.lines[strings.Join(in[:n], "\x00")]
	}
	l.probs = append(l.probs, problem{file: l.f.name, row: row, msg: fmt.Sprintf(format, args...)})
}

// grants checks grants.agents[agent][area] = read|manage and
// grants.actions[agent] = {allow: [names], deny: [names]}.
func (l *dataLinter) grants(path []string, v any) {
	g, ok := v.(map[string]any)
	if !ok {
		l.add(path, "grants must be an object")
		return
	}
	if agents, ok := g["agents"]; ok {
		p := append(slices.Clip(path), "agents")
		m, ok := agents.(map[string]any)
		if !ok {
			l.add(p, "grants.agents must be an object of agents")
		}
		for _, agent := range sortedKeys(m) {
			pa := append(slices.Clip(p), agent)
			areas, ok := m[agent].(map[string]any)
			if !ok {
				l.add(pa, "grants of agent %q must be an object of areas", agent)
				continue
			}
			for _, area := range sortedKeys(areas) {
				if _, ok := catalog.LookupArea(area); !ok {
					l.add(append(slices.Clip(pa), area), "agent %q: unknown area %q%s", agent, area, suggest(area, areaNames()))
				}
				if lv, _ := areas[area].(string); lv != string(catalog.Read) && lv != string(catalog.Manage) {
					l.add(append(slices.Clip(pa), area), "agent %q: access level %s on area %q must be \"read\" or \"manage\"", agent, show(areas[area]), area)
				}
			}
		}
	}
	if actions, ok := g["actions"]; ok {
		p := append(slices.Clip(path), "actions")
		m, ok := actions.(map[string]any)
		if !ok {
			l.add(p, "grants.actions must be an object of agents")
		}
		for _, agent := range sortedKeys(m) {
			pa := append(slices.Clip(p), agent)
			lists, ok := m[agent].(map[string]any)
			if !ok {
				l.add(pa, "action grants of agent %q must be an object with allow and deny lists", agent)
				continue
			}
			for _, k := range sortedKeys(lists) {
				pk := append(slices.Clip(pa), k)
				if k != "allow" && k != "deny" {
					l.add(pk, "agent %q: unknown key %q in action grants (allow or deny)", agent, k)
					continue
				}
				names, ok := lists[k].([]any)
				if !ok {
					l.add(pk, "agent %q: %s must be a list of action names", agent, k)
					continue
				}
				for i, n := range names {
					s, _ := n.(string)
					if _, ok := catalog.Lookup(s); !ok {
						l.add(append(slices.Clip(pk), strconv.Itoa(i)), "agent %q: unknown action %s in %s%s", agent, show(n), k, suggest(s, actionNames()))
					}
				}
			}
		}
	}
}

// pageSizes checks read_shaping.page_size: default and each agent's entry
// are a positive number or an object of positive numbers keyed by area.
func (l *dataLinter) pageSizes(path []string, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		l.add(path, "read_shaping.page_size must be an object")
		return
	}
	check := func(p []string, who string, x any) {
		if obj, ok := x.(map[string]any); ok {
			for _, area := range sortedKeys(obj) {
				pa := append(slices.Clip(p), area)
				if _, ok := catalog.LookupArea(area); !ok {
					l.add(pa, "page size for %s: unknown area %q%s", who, area, suggest(area, areaNames()))
				}
				if !positiveInt(obj[area]) {
					l.add(pa, "page size for %s on area %q must be a positive integer, not %s", who, area, show(obj[area]))
				}
			}
			return
		}
		if !positiveInt(x) {
			l.add(p, "page size for %s must be a positive integer or an object keyed by area, not %s", who, show(x))
		}
	}
	if d, ok := m["default"]; ok {
		check(append(slices.Clip(path), "default"), "default", d)
	}
	if agents, ok := m["agents"].(map[string]any); ok {
		for _, agent := range sortedKeys(agents) {
			check(append(slices.Clip(path), "agents", agent), fmt.Sprintf("agent %q", agent), agents[agent])
		}
	}
}

// actionLike matches a string that names an action: "<area>.<verb>".
var actionLike = regexp.MustCompile(`^([a-z_]+)\.([a-z_]+)$`)

// names checks every other key and string in the settings: one that looks
// like "<area>.<verb>" for a catalog area must be a catalog action.
func (l *dataLinter) names(path []string, v any) {
	check := func(p []string, s string) {
		m := actionLike.FindStringSubmatch(s)
		if m == nil {
			return
		}
		if _, ok := catalog.LookupArea(m[1]); !ok {
			return
		}
		if _, ok := catalog.Lookup(s); !ok {
			l.add(p, "unknown action %q%s", s, suggest(s, actionNames()))
		}
	}
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			p := append(slices.Clip(path), k)
			check(p, k)
			l.names(p, x[k])
		}
	case []any:
		for i, e := range x {
			l.names(append(slices.Clip(path), strconv.Itoa(i)), e)
		}
	case string:
		check(path, x)
	}
}

func positiveInt(x any) bool {
	n, ok := x.(json.Number)
	if !ok {
		return false
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	return err == nil && i > 0
}

// show prints a data value for a message.
func show(x any) string {
	b, err := json.Marshal(x)
	if err != nil || len(b) > 40 {
		return fmt.Sprintf("%T", x)
	}
	return string(b)
}

func dig(x any, keys ...string) any {
	for _, k := range keys {
		m, ok := x.(map[string]any)
		if !ok {
			return nil
		}
		x = m[k]
	}
	return x
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// jsonLines maps the path of every value in a JSON document (object keys
// and array indexes joined by "\x00") to the line where the value starts.
func jsonLines(b []byte) map[string]int {
	lines := map[string]int{}
	dec := json.NewDecoder(bytes.NewReader(b))
	var walk func(path []string) error
	walk = func(path []string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		lines[strings.Join(path, "\x00")] = lineAt(b, int(dec.InputOffset())-1)
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				key, _ := k.(string)
				if err := walk(append(slices.Clip(path), key)); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if err := walk(append(slices.Clip(path), strconv.Itoa(i))); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		}
		return err
	}
	_ = walk(nil) // the file has parsed already; a failure only loses lines
	return lines
}

func areaNames() []string {
	var out []string
	for _, a := range catalog.Areas() {
		out = append(out, a.Name)
	}
	return out
}

func actionNames() []string {
	var out []string
	for _, a := range catalog.Actions() {
		out = append(out, a.Name)
	}
	return out
}

// suggest returns ` (did you mean "x"?)` for the closest candidate, if one
// is close enough to be a typo.
func suggest(s string, candidates []string) string {
	best, bestD := "", len(s)/3+2
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// lineAt is the 1-based line of byte offset off in b.
func lineAt(b []byte, off int) int {
	off = min(max(off, 0), len(b))
	return bytes.Count(b[:off], []byte{'\n'}) + 1
}
