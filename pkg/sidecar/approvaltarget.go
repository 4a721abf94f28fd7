package sidecar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/catalog"
)

// maxTargets bounds the objects one approval's target reads (a user and a
// group, typically).
const maxTargets = 4

// approvalTarget shows an approver what a call would change, as Okta has
// it now: the users and groups its parameters name, read with Bollard's
// own credential (GET only, marked as lookups in Okta's System Log, with
// the asking call's decision id), masked as the audit log masks.
type approvalTarget struct {
	get  func(ctx context.Context, call *catalog.Call, decisionID string) ([]byte, error)
	mask *audit.Logger
}

// ReadTarget reads the users (userId) and groups (groupId) the approval's
// call names; nil when it names none.
func (t approvalTarget) ReadTarget(ctx context.Context, a approval.Approval) (*structpb.Struct, error) {
	reads := []struct{ key, action, param string }{{"user", "users.get", "userId"}, {"group", "groups.get", "groupId"}}
	out := map[string]any{}
	for _, r := range reads {
		id, _ := a.Params[r.param].(string)
		if id == "" || strings.HasPrefix(id, "hmac-sha256:") || len(out) >= maxTargets {
			continue
		}
		call, err := catalog.Bind(r.action, map[string]any{r.param: id})
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", r.key, err)
		}
		call.Lookup = true
		body, err := t.get(ctx, call, a.DecisionID)
		if err != nil {
			return nil, fmt.Errorf("read the target %s: %w", r.key, err)
		}
		var obj map[string]any
		if err := json.Unmarshal(body, &obj); err != nil {
			return nil, fmt.Errorf("target %s: %w", r.key, err)
		}
		delete(obj, "_links")
		var masked map[string]any
		if err := json.Unmarshal(t.mask.MaskedParams(obj, nil, nil), &masked); err != nil {
			return nil, fmt.Errorf("target %s: %w", r.key, err)
		}
		out[r.key] = masked
	}
	if len(out) == 0 {
		return nil, nil
	}
	s, err := structpb.NewStruct(out)
	if err != nil {
		return nil, errors.New("target: not a JSON object")
	}
	return s, nil
}
