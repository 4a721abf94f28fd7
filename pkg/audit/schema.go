package audit

import (
	"bytes"
	_ "embed"
)

//go:embed schema/record.schema.json
var schemaJSON []byte

// SchemaID is the $id of the record schema.
const SchemaID = "https://bollard.dev/schemas/audit/v1/record.schema.json"

// Schema returns the JSON Schema (draft 2020-12) of a record, for log
// pipelines that validate what they ship.
func Schema() []byte { return bytes.Clone(schemaJSON) }
