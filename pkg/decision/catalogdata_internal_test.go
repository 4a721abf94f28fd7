package decision

import (
	"log/slog"
	"testing"
	"testing/fstest"
)

// TestRevisionExcludesCatalog: the catalog is a function of the binary, so
// it is not part of the revision, which hashes the policy files alone.
func TestRevisionExcludesCatalog(t *testing.T) {
	fsys := fstest.MapFS{"p.rego": {Data: []byte(`package bollard.authz

decision := {"allow": data.bollard.catalog.actions["users.list"].access == "read", "deny": [], "obligations": {"require_confirmation": false}}
`)}}
	files, err := readSource(fsys, false)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(t.Context(), WithPolicyFS(fsys), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.Revision(), revisionOf(files); got != want {
		t.Errorf("revision %s, the files alone hash to %s", got, want)
	}
}
