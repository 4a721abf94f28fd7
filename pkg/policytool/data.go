package policytool

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/bollard-dev/bollard/pkg/decision"
)

// DataOptions are where Data writes: the flags of `sidecar policy data`.
type DataOptions struct {
	// Out is the file to write; empty is stdout.
	Out string
}

// Data writes the action catalog as an OPA data file: the document the
// sidecar puts at data.bollard.catalog (decision.CatalogData), as JSON
// with sorted keys. Given to OPA beside the policy directory (`opa test
// policies/ catalog.json`), it lets plain OPA evaluate and test the
// policies as the sidecar does. The error is an *ExitCodeError
// (ExitError) when the file cannot be written.
func Data(ctx context.Context, o DataOptions, stdout io.Writer) error {
	if err := ctx.Err(); err != nil {
		return bad(err)
	}
	b, err := catalogJSON()
	if err != nil {
		return bad(fmt.Errorf("policy data: %w", err))
	}
	if o.Out == "" {
		if _, err := stdout.Write(b); err != nil {
			return bad(fmt.Errorf("policy data: %w", err))
		}
		return nil
	}
	if err := os.WriteFile(o.Out, b, 0o644); err != nil {
		return bad(fmt.Errorf("policy data: %w", err))
	}
	return nil
}

// catalogJSON is decision.CatalogData as indented JSON.
func catalogJSON() ([]byte, error) {
	v, err := ast.JSON(decision.CatalogData())
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
