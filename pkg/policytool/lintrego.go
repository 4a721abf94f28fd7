package policytool

import (
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

var (
	refActionName     = ast.MustParseRef("input.action.name")
	refActionArea     = ast.MustParseRef("input.action.area")
	refAction         = ast.MustParseRef("input.action")
	refCatalogActions = ast.MustParseRef("data.bollard.catalog.actions")
	refCatalogAreas   = ast.MustParseRef("data.bollard.catalog.areas")
)

// What a string literal must name.
type nameKind int

const (
	noName nameKind = iota
	actionName
	areaName
)

// regoLinter finds string literals that must be catalog names: compared
// with input.action.name or .area (==, !=, =, in, a set or object indexed
// by it, a with modifier), or used as keys of data.bollard.catalog. It reads
// the parsed module, resolving imports and simple local aliases
// (a := input.action) itself, so it works on a module that does not compile.
type regoLinter struct {
	imports map[ast.Var]ast.Ref
	locals  map[ast.Var]ast.Ref
	probs   []problem
}

func lintRego(m *ast.Module) []problem {
	l := &regoLinter{imports: map[ast.Var]ast.Ref{}}
	for _, imp := range m.Imports {
		path, ok := imp.Path.Value.(ast.Ref)
		if !ok || len(path) == 0 {
			continue
		}
		name := imp.Alias
		if name == "" {
			switch last := path[len(path)-1].Value.(type) {
			case ast.String:
				name = ast.Var(last)
			case ast.Var:
				name = last
			}
		}
		l.imports[name] = path
	}
	for _, r := range m.Rules {
		l.locals = map[ast.Var]ast.Ref{}
		ast.WalkExprs(r, func(e *ast.Expr) bool {
			if (e.IsAssignment() || e.IsEquality()) && len(e.Operands()) == 2 {
				ops := e.Operands()
				if v, ok := ops[0].Value.(ast.Var); ok {
					if ref := l.resolve(ops[1]); ref != nil {
						l.locals[v] = ref
					}
				}
			}
			return false
		})
		ast.WalkExprs(r, func(e *ast.Expr) bool { l.expr(e); return false })
		ast.WalkRefs(r, func(ref ast.Ref) bool { l.ref(ref); return false })
	}
	return l.probs
}

// resolve returns the full reference a term stands for (a ref, or a var
// that is an import or a local alias), or nil.
func (l *regoLinter) resolve(t *ast.Term) ast.Ref {
	var ref ast.Ref
	switch v := t.Value.(type) {
	case ast.Ref:
		ref = v
	case ast.Var:
		ref = ast.Ref{t}
	default:
		return nil
	}
	head, ok := ref[0].Value.(ast.Var)
	if !ok {
		return nil
	}
	if base, ok := l.locals[head]; ok {
		return base.Concat(ref[1:])
	}
	if base, ok := l.imports[head]; ok {
		return base.Concat(ref[1:])
	}
	if head == "input" || head == "data" {
		return ref
	}
	return nil
}

func (l *regoLinter) kind(t *ast.Term) nameKind {
	switch ref := l.resolve(t); {
	case ref == nil:
		return noName
	case ref.Equal(refActionName):
		return actionName
	case ref.Equal(refActionArea):
		return areaName
	}
	return noName
}

func (l *regoLinter) expr(e *ast.Expr) {
	for _, w := range e.With {
		switch target := l.resolve(w.Target); {
		case target == nil:
		case target.Equal(refActionName):
			l.literal(w.Value, actionName, "set with input.action.name")
		case target.Equal(refActionArea):
			l.literal(w.Value, areaName, "set with input.action.area")
		case target.Equal(refAction):
			if obj, ok := w.Value.Value.(ast.Object); ok {
				if t := obj.Get(ast.StringTerm("name")); t != nil {
					l.literal(t, actionName, "set with input.action")
				}
				if t := obj.Get(ast.StringTerm("area")); t != nil {
					l.literal(t, areaName, "set with input.action")
				}
			}
		}
	}
	if !e.IsCall() {
		return
	}
	ops := e.Operands()
	switch e.Operator().String() {
	case ast.Equal.Name, ast.NotEqual.Name, ast.Equality.Name:
		if len(ops) != 2 {
			return
		}
		for i := range 2 {
			if k := l.kind(ops[i]); k != noName {
				l.literal(ops[1-i], k, "compared with "+kindRef(k))
			}
		}
	case ast.Member.Name:
		if len(ops) != 2 {
			return
		}
		if k := l.kind(ops[0]); k != noName {
			l.elements(ops[1], k, "compared with "+kindRef(k))
		}
	}
}

func (l *regoLinter) ref(ref ast.Ref) {
	if len(ref) > 1 {
		// {"users.list", "users.get"}[input.action.name]
		if k := l.kind(ref[1]); k != noName {
			switch c := ref[0].Value.(type) {
			case ast.Set, *ast.Array:
				l.elements(ref[0], k, "looked up with "+kindRef(k))
			case ast.Object:
				c.Foreach(func(key, _ *ast.Term) { l.literal(key, k, "looked up with "+kindRef(k)) })
			}
		}
	}
	full := l.resolve(ast.NewTerm(ref))
	switch {
	case full == nil:
	case full.HasPrefix(refCatalogActions) && len(full) > len(refCatalogActions):
		l.literal(full[len(refCatalogActions)], actionName, "used as a key of "+refCatalogActions.String())
	case full.HasPrefix(refCatalogAreas) && len(full) > len(refCatalogAreas):
		l.literal(full[len(refCatalogAreas)], areaName, "used as a key of "+refCatalogAreas.String())
	}
}

// elements checks the strings of a set or array literal.
func (l *regoLinter) elements(t *ast.Term, k nameKind, how string) {
	switch c := t.Value.(type) {
	case ast.Set:
		c.Foreach(func(e *ast.Term) { l.literal(e, k, how) })
	case *ast.Array:
		c.Foreach(func(e *ast.Term) { l.literal(e, k, how) })
	}
}

// literal reports t if it is a string that is not a catalog name of kind k.
func (l *regoLinter) literal(t *ast.Term, k nameKind, how string) {
	s, ok := t.Value.(ast.String)
	if !ok {
		return
	}
	p := problem{}
	if t.Location != nil {
		p.file, p.row = t.Location.File, t.Location.Row
	}
	switch k {
	case actionName:
		if _, ok := catalog.Lookup(string(s)); !ok {
			p.msg = fmt.Sprintf("%q is not a catalog action (%s)%s", string(s), how, suggest(string(s), actionNames()))
		}
	case areaName:
		if _, ok := catalog.LookupArea(string(s)); !ok {
			p.msg = fmt.Sprintf("%q is not a catalog area (%s)%s", string(s), how, suggest(string(s), areaNames()))
		}
	}
	if p.msg != "" {
		l.probs = append(l.probs, p)
	}
}

func kindRef(k nameKind) string {
	if k == areaName {
		return refActionArea.String()
	}
	return refActionName.String()
}
