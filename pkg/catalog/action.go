package catalog

import (
	"sort"
	"strings"
)

// Access says whether an action only reads or also changes the org.
type Access string

// The two kinds of access. A manage grant on an area implies read.
const (
	Read   Access = "read"
	Manage Access = "manage"
)

// Area groups the actions that a grant covers.
type Area struct {
	// Name is the stable area name used in grants and policies, e.g. "user_lifecycle".
	Name string
	// Service is the typed gRPC service in bollard.okta.v1 for this area.
	Service string
	// Description is one line for docs and ListActions.
	Description string
}

// Action is one Okta operation that an agent may ask Bollard to perform.
type Action struct {
	Name        string // stable catalog name, "<area>.<verb>"
	Area        string
	Access      Access
	Scope       string // the least-privilege OAuth scope Okta requires
	Method      string // HTTP method
	Path        string // Okta path template, "{name}" for path parameters
	Event       string // the event hook type this action fires, if any
	Destructive bool   // removes access or data; policies usually require confirmation
	RPC         string // method name in the area's typed service
	Description string
	Params      []Param
	// MaxLimit is Okta's page-size maximum for list actions (0: not paginated).
	MaxLimit int
	// Effects says what the action changes at Okta (effect.go); empty for
	// reads and for actions that only create.
	Effects []Effect
}

// Param returns the declared parameter with the given name.
func (a *Action) Param(name string) (Param, bool) {
	for _, p := range a.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// Paginated reports whether the action takes limit and after and may answer
// with a next page.
func (a *Action) Paginated() bool { return a.MaxLimit > 0 }

// TypedPackage is the protobuf package of the typed per-area services.
const TypedPackage = "bollard.okta.v1"

// TypedRPC returns the fully qualified method of the typed RPC that performs
// the action, "<package>.<Service>/<Method>", as ListActions reports it, for
// example "bollard.okta.v1.UserLifecycleService/DeactivateUser". The gRPC
// full method name is the same with a leading "/".
func (a *Action) TypedRPC() string {
	return TypedPackage + "." + areaIdx[a.Area].Service + "/" + a.RPC
}

// PathParams lists the names of the action's path parameters in path order.
func (a *Action) PathParams() []string {
	var names []string
	for _, p := range a.Params {
		if p.In == InPath {
			names = append(names, p.Name)
		}
	}
	return names
}

var (
	byName  map[string]*Action
	ordered []*Action
	areaIdx map[string]*Area
)

func init() {
	byName = make(map[string]*Action, len(table))
	areaIdx = make(map[string]*Area, len(areas))
	for i := range areas {
		areaIdx[areas[i].Name] = &areas[i]
	}
	for i := range table {
		a := &table[i]
		if _, dup := byName[a.Name]; dup {
			panic("catalog: duplicate action " + a.Name)
		}
		if _, ok := areaIdx[a.Area]; !ok {
			panic("catalog: action " + a.Name + " has unknown area " + a.Area)
		}
		if !strings.HasPrefix(a.Name, a.Area+".") {
			panic("catalog: action " + a.Name + " is not named after its area " + a.Area)
		}
		byName[a.Name] = a
		ordered = append(ordered, a)
	}
	attachEffects()
}

// Lookup returns the action with the given catalog name.
func Lookup(name string) (*Action, bool) {
	a, ok := byName[name]
	return a, ok
}

// Actions returns every action in catalog order (area by area). The slice is
// a copy; the actions themselves must not be modified.
func Actions() []*Action {
	out := make([]*Action, len(ordered))
	copy(out, ordered)
	return out
}

// Areas returns every area in catalog order.
func Areas() []Area {
	out := make([]Area, len(areas))
	copy(out, areas)
	return out
}

// LookupArea returns the area with the given name.
func LookupArea(name string) (Area, bool) {
	a, ok := areaIdx[name]
	if !ok {
		return Area{}, false
	}
	return *a, true
}

// AreaActions returns the actions of one area in catalog order.
func AreaActions(area string) []*Action {
	var out []*Action
	for _, a := range ordered {
		if a.Area == area {
			out = append(out, a)
		}
	}
	return out
}

// Scopes returns the sorted set of OAuth scopes the catalog uses.
func Scopes() []string {
	set := map[string]bool{}
	for _, a := range ordered {
		set[a.Scope] = true
	}
	return sortedKeys(set)
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}
