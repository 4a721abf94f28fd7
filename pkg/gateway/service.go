package gateway

import (
	"context"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/identity"
)

// Execute performs one catalog action at Okta.
func (s *Server) Execute(ctx context.Context, req *bollardv1.ExecuteRequest) (*bollardv1.ExecuteResponse, error) {
	return s.execute(ctx, request{action: req.GetAction(), params: req.GetParams().AsMap(), confirmation: req.GetConfirmation(), approvalID: req.GetApprovalId()})
}

// execute is shared by Execute and every typed RPC.
func (s *Server) execute(ctx context.Context, req request) (*bollardv1.ExecuteResponse, error) {
	out, err := s.run(ctx, req)
	if err != nil {
		return nil, toStatus(err)
	}
	resp, err := executeResponse(out)
	if err != nil {
		s.log.ErrorContext(ctx, "encode okta response", "decision_id", out.id, "action", out.call.Action.Name, "error", err)
		return nil, toStatus(err)
	}
	return resp, nil
}

// Check answers whether Execute would be allowed, without calling Okta.
func (s *Server) Check(ctx context.Context, req *bollardv1.ExecuteRequest) (*bollardv1.CheckResponse, error) {
	out, err := s.run(ctx, request{action: req.GetAction(), params: req.GetParams().AsMap(), checkOnly: true})
	if err != nil {
		return nil, toStatus(err)
	}
	d := out.decision
	obl, err := obligations(d.Obligations)
	if err != nil {
		s.log.ErrorContext(ctx, "encode obligations", "decision_id", d.ID, "error", err)
		return nil, toStatus(err)
	}
	return &bollardv1.CheckResponse{
		Allow:          d.Allow,
		Reasons:        publicReasons(d.Deny),
		Obligations:    obl,
		DecisionId:     d.ID,
		PolicyRevision: d.Revision,
	}, nil
}

// ListActions describes every action and whether the caller may use it now.
// Each action is decided as the first stage of a call with no parameters:
// what the agent may do before anything the call names is looked at
// (protection applies to each call's objects). An action the policy allows
// on conditions (the System Log's window) is listed as allowed, with the
// conditions.
func (s *Server) ListActions(ctx context.Context, req *bollardv1.ListActionsRequest) (*bollardv1.ListActionsResponse, error) {
	id, err := s.authenticate(ctx)
	if err != nil {
		s.log.InfoContext(ctx, "list actions refused", "error", err)
		s.recordRPC(ctx, audit.KindListActions, rpcListActions, id, resultOf(err), nil)
		return nil, toStatus(err)
	}
	resp, allowed := s.listActions(ctx, id, req.GetIncludeDenied())
	// What an agent learnt of its grants is on record, or it is not told.
	if err := s.recordRPC(ctx, audit.KindListActions, rpcListActions, id, "ok", map[string]any{
		"listed": len(resp.Actions), "allowed": allowed, "include_denied": req.GetIncludeDenied(),
	}); err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// listActions decides every action for the agent; allowed counts those it
// may use.
func (s *Server) listActions(ctx context.Context, id identity.Identity, includeDenied bool) (resp *bollardv1.ListActionsResponse, allowed int) {
	resp = &bollardv1.ListActionsResponse{}
	// The agent's counts, so that an impact limit already reached shows;
	// no target, as no object is named.
	listing := factsContext(s.impact.Counts(id.ID), nil)
	for _, a := range catalog.Actions() {
		in := s.input(&outcome{identity: id, call: &catalog.Call{Action: a, Resource: map[string]string{}, Params: map[string]any{}}})
		in.Stage, in.Context, in.DecisionID = decision.StageGrant, listing, ""
		d := s.decider.Decide(ctx, in)
		if !d.Allow && !includeDenied {
			continue
		}
		info := actionInfo(a)
		info.Allowed = d.Allow
		info.RequireConfirmation = d.Allow && d.Obligations.RequireConfirmation
		if !d.Allow {
			info.DenyReasons = publicReasons(d.Deny)
		} else if c, ok := d.Obligations.Extra[obligationConstraints]; ok {
			cs, err := readConstraints(c, true)
			if err != nil {
				// The call itself would fail on it: say so rather than
				// list an action the agent cannot use.
				s.log.ErrorContext(ctx, "list actions: policy obligation", "agent", id.ID, "action", a.Name, "error", err)
				info.Allowed = false
				info.DenyReasons = publicReasons([]decision.Reason{{Code: decision.CodePolicyError}})
			}
			for _, c := range cs {
				info.Constraints = append(info.Constraints, &bollardv1.Constraint{
					Param: c.Param, Min: c.Min, DefaultValue: c.Default, Description: c.Description})
			}
		}
		if info.Allowed {
			allowed++
		}
		resp.Actions = append(resp.Actions, info)
	}
	return resp, allowed
}

func actionInfo(a *catalog.Action) *bollardv1.ActionInfo {
	access := bollardv1.Access_ACCESS_READ
	if a.Access == catalog.Manage {
		access = bollardv1.Access_ACCESS_MANAGE
	}
	info := &bollardv1.ActionInfo{
		Name: a.Name, Area: a.Area, Access: access, Scope: a.Scope, Destructive: a.Destructive,
		Description: a.Description, Rpc: a.TypedRPC(), Event: a.Event, Paginated: a.Paginated(),
	}
	for _, e := range a.Effects {
		info.Effects = append(info.Effects, &bollardv1.Effect{Kind: string(e.Kind), From: string(e.From), Name: e.Name, Aspect: e.Aspect})
	}
	for _, p := range a.Params {
		info.Params = append(info.Params, &bollardv1.ParamInfo{
			Name: p.Name, In: string(p.In), Kind: string(p.Kind), Required: p.Required, Description: p.Description,
			EnumValues: p.Enum, Min: int64(p.Min), Max: int64(p.Max), MaxLength: int32(p.MaxLen),
		})
	}
	return info
}

// publicReasons are the reasons as the agent sees them: each code with its
// fixed sentence (publicMessage), never the policy's message, which may
// name the facts behind it.
func publicReasons(rs []decision.Reason) []*bollardv1.Reason {
	codes := publicCodes(rs)
	out := make([]*bollardv1.Reason, len(codes))
	for i, c := range codes {
		out[i] = &bollardv1.Reason{Code: c, Message: publicMessage(c)}
	}
	return out
}

func obligations(o decision.Obligations) (*bollardv1.Obligations, error) {
	out := &bollardv1.Obligations{RequireConfirmation: o.RequireConfirmation}
	if len(o.Extra) == 0 {
		return out, nil
	}
	// Converted directly rather than through a JSON round trip: reads carry
	// obligations (page caps, fields removed) on nearly every call.
	out.Extra = &structpb.Struct{Fields: make(map[string]*structpb.Value, len(o.Extra))}
	for k, v := range o.Extra {
		pv, err := protoValue(v)
		if err != nil {
			return nil, fmt.Errorf("encode obligation %s: %w", k, err)
		}
		out.Extra.Fields[k] = pv
	}
	return out, nil
}

// protoValue converts a JSON value as decision.Obligations holds it
// (json.Number for numbers) into a protobuf Value.
func protoValue(v any) (*structpb.Value, error) {
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return nil, err
		}
		return structpb.NewNumberValue(f), nil
	case []any:
		list := &structpb.ListValue{Values: make([]*structpb.Value, len(v))}
		for i, e := range v {
			pv, err := protoValue(e)
			if err != nil {
				return nil, err
			}
			list.Values[i] = pv
		}
		return structpb.NewListValue(list), nil
	case map[string]any:
		st := &structpb.Struct{Fields: make(map[string]*structpb.Value, len(v))}
		for k, e := range v {
			pv, err := protoValue(e)
			if err != nil {
				return nil, err
			}
			st.Fields[k] = pv
		}
		return structpb.NewStructValue(st), nil
	}
	return structpb.NewValue(v)
}

// executeResponse carries Okta's body as a protobuf Value, whatever
// objects and fields it holds. The Value is written in its wire form
// straight from the JSON (appendValueField) and travels as the message's
// unknown field 1, which is its result field: the agent decodes it as
// result; in this process resp.Result stays nil. A 204's empty body is a
// null_value.
func executeResponse(out *outcome) (*bollardv1.ExecuteResponse, error) {
	resp := &bollardv1.ExecuteResponse{
		NextCursor: out.okta.NextCursor,
		DecisionId: out.decision.ID,
		Okta:       oktaCall(out.okta),
	}
	resp.Okta.AuditPending = out.auditPending
	if len(out.okta.Body) == 0 {
		resp.Result = structpb.NewNullValue()
		return resp, nil
	}
	result, err := appendValueField(make([]byte, 0, len(out.okta.Body)+len(out.okta.Body)/4+16), resultField, out.okta.Body)
	if err != nil {
		return nil, fmt.Errorf("okta answered %d with a body that is not JSON: %w", out.okta.Status, err)
	}
	resp.ProtoReflect().SetUnknown(result)
	return resp, nil
}

// resultField is the number of ExecuteResponse's result field (every typed
// response has the same).
var resultField = protowire.Number((&bollardv1.ExecuteResponse{}).ProtoReflect().Descriptor().Fields().ByName("result").Number())
