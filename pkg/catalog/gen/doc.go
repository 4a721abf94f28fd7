// Command gen writes the files derived from the action catalog into the
// repository: the typed per-area services (api/proto/bollard/okta/v1/*.proto)
// and the action reference (docs/actions.md). Run it from the repository
// root, then `buf generate`; .ci/generate does both.
//
//	go run ./pkg/catalog/gen [-root DIR]
//
// The renderers live here, beside the command, and not in pkg/catalog: the
// sidecar links the catalog's actions and their lookups, never the code
// that writes .proto files and Markdown. They read the catalog only through
// its exported API. Their tests compare the committed files with what the
// catalog renders (go test ./pkg/catalog/gen -update rewrites them) and the
// generated Go code with the catalog.
package main
