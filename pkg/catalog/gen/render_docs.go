package main

import (
	"fmt"
	"strings"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

// renderDocs renders docs/actions.md: an overview of the areas, then for each
// area a table of its actions (name, area, access, scope, method, path,
// destructive, event, typed RPC, parameters) followed by every action's
// description, what it changes (effects) and parameter details. The output depends only on the catalog.
func renderDocs() ([]byte, error) {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	w("<!--\n")
	for _, line := range generatedHeader {
		w("%s\n", line)
	}
	w("-->\n\n")
	w("# Okta actions\n\n")
	w("Bollard exposes %d Okta Management API actions in %d areas. ", len(catalog.Actions()), len(catalog.Areas()))
	w("An agent calls an action by name through `bollard.v1.GatewayService/Execute`, ")
	w("or through the action's typed RPC in `%s`; both run the same pipeline. ", catalog.TypedPackage)
	w("`ListActions` returns the same information at run time, with what policy allows the caller.\n\n")
	w("Grants and policies are written per area. A grant to manage an area also allows reading it. ")
	w("Destructive actions remove access or data; policies usually require confirmation for them.\n\n")
	w("In the tables, **bold** parameters are required.\n\n")

	w("## Areas\n\n")
	w("| Area | Typed service | Actions | Description |\n")
	w("|---|---|---:|---|\n")
	for _, ar := range catalog.Areas() {
		w("| [%s](#%s) | `%s.%s` | %d | %s |\n", ar.Name, anchor(ar.Name), catalog.TypedPackage, ar.Service,
			len(catalog.AreaActions(ar.Name)), cell(ar.Description))
	}

	for _, ar := range catalog.Areas() {
		w("\n## %s\n\n", ar.Name)
		w("%s Typed service: `%s.%s` in [%s](../%s).\n\n", sentence(ar.Description), catalog.TypedPackage, ar.Service,
			ar.Name+".proto", protoFile(ar.Name))
		w("| Action | Area | Access | Scope | Method | Path | Destructive | Event | Typed RPC | Parameters |\n")
		w("|---|---|---|---|---|---|---|---|---|---|\n")
		actions := catalog.AreaActions(ar.Name)
		for _, a := range actions {
			event := "-"
			if a.Event != "" {
				event = "`" + a.Event + "`"
			}
			params := make([]string, len(a.Params))
			for i, p := range a.Params {
				params[i] = "`" + p.Name + "`"
				if p.Required {
					params[i] = "**" + params[i] + "**"
				}
			}
			paramCell := strings.Join(params, ", ")
			if paramCell == "" {
				paramCell = "-"
			}
			w("| `%s` | %s | %s | `%s` | %s | `%s` | %s | %s | `%s` | %s |\n",
				a.Name, a.Area, a.Access, a.Scope, a.Method, cell(a.Path), yesNo(a.Destructive), event,
				a.TypedRPC(), paramCell)
		}
		w("\n")
		for _, a := range actions {
			w("- `%s`: %s", a.Name, sentence(a.Description))
			if a.Paginated() {
				w(" Paginated, at most %d per page.", a.MaxLimit)
			}
			if len(a.Effects) > 0 {
				changes := make([]string, len(a.Effects))
				for i, e := range a.Effects {
					changes[i] = e.String()
				}
				w(" Changes: %s.", strings.Join(changes, "; "))
			}
			w("\n")
			for _, p := range a.Params {
				phrase, err := kindPhrase(p)
				if err != nil {
					return nil, fmt.Errorf("render docs: action %s: %w", a.Name, err)
				}
				req := "optional"
				if p.Required {
					req = "required"
				}
				w("  - `%s` (%s, %s, %s): %s", p.Name, p.In, p.Kind, req, strings.TrimSuffix(strings.TrimSpace(p.Description), "."))
				if phrase != "" {
					w("; %s", phrase)
				}
				switch p.Query {
				case catalog.QueryExpression:
					w("; may name only attributes the caller may see")
				case catalog.QueryAttribute:
					w("; must be an attribute the caller may see")
				case catalog.QueryText:
					if len(p.Matches) > 0 {
						w("; matches %s, so refused when the caller may not see one of them", strings.Join(p.Matches, ", "))
					}
				}
				w(".\n")
			}
		}
	}
	return []byte(b.String()), nil
}

// cell escapes text for a Markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}

// anchor is the GitHub heading anchor of a heading made of s.
func anchor(s string) string {
	return strings.ToLower(s)
}
