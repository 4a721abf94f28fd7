package mcpfront

import (
	"strings"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

// byTool maps every tool name back to its action.
var byTool = func() map[string]*catalog.Action {
	m := map[string]*catalog.Action{}
	for _, a := range catalog.Actions() {
		m[ToolName(a.Name)] = a
	}
	return m
}()

// ToolName is the MCP tool name of a catalog action: the name with "."
// replaced by "_" (users.get is users_get), since some clients accept only
// letters, digits, "_" and "-" in tool names.
func ToolName(action string) string { return strings.ReplaceAll(action, ".", "_") }

// ActionOf is the catalog action of a tool name. Areas hold "_" themselves
// (user_lifecycle), so the name is looked up, not rewritten back.
func ActionOf(tool string) (*catalog.Action, bool) {
	a, ok := byTool[tool]
	return a, ok
}
