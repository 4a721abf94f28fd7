package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/forward"
)

// errNotAList refuses ExecuteAll on an action that does not paginate.
var errNotAList = errors.New("ExecuteAll takes a paginated read action")

// ExecuteAll follows every page of a list for the agent, one message a page.
func (s *Server) ExecuteAll(req *bollardv1.ExecuteRequest, stream bollardv1.GatewayService_ExecuteAllServer) error {
	_, err := s.run(stream.Context(), request{
		action: req.GetAction(), params: req.GetParams().AsMap(), confirmation: req.GetConfirmation(), approvalID: req.GetApprovalId(),
		pages: func(ctx context.Context, out *outcome) error { return s.followPages(ctx, out, stream.Send) },
	})
	if err != nil {
		return toStatus(err)
	}
	return nil
}

// followPages is step 5 for ExecuteAll: one Okta call per page, each sent to
// the agent before the next is fetched, so only one page is held at a time.
func (s *Server) followPages(ctx context.Context, out *outcome, send func(*bollardv1.ExecuteAllResponse) error) error {
	budget := intObligation(out.decision.Obligations, obligationPageBudget, s.maxPages)
	call := out.call
	for page := 1; ; page++ {
		if page > 1 {
			if err := s.spend(ctx, out); err != nil {
				return err
			}
		}
		resp, err := s.okta.Do(ctx, call, out.id)
		if err != nil {
			return err
		}
		out.okta, out.pages = resp, page
		if resp.Body, err = out.remove.Apply(resp.Body); err != nil {
			return err
		}
		var doc structpb.Value
		if err := jsonValue(resp.Body, &doc); err != nil {
			return fmt.Errorf("okta page %d of %s is not a JSON list: %w", page, call.Action.Name, err)
		}
		items := doc.GetListValue()
		if items == nil {
			return fmt.Errorf("okta page %d of %s is not a JSON list", page, call.Action.Name)
		}
		msg := &bollardv1.ExecuteAllResponse{
			Items: items.Values, Page: int32(page), NextCursor: resp.NextCursor,
			DecisionId: out.decision.ID, Okta: oktaCall(resp),
			Truncated: resp.NextCursor != "" && page >= budget,
		}
		if err := send(msg); err != nil {
			return err
		}
		if resp.NextCursor == "" || msg.Truncated {
			return nil
		}
		call = call.WithQuery("after", resp.NextCursor)
	}
}

// capPageSize applies the max_page_size obligation to a list call: the
// limit sent to Okta is at most the cap, and the cap when the agent sent none.
func capPageSize(call *catalog.Call, ob decision.Obligations) {
	if !call.Action.Paginated() {
		return
	}
	limit := intObligation(ob, obligationMaxPageSize, 0)
	if limit <= 0 {
		return
	}
	if asked, ok := call.Params["limit"].(float64); ok && int(asked) <= limit {
		return
	}
	call.Query.Set("limit", fmt.Sprint(limit))
}

// intObligation reads a positive whole number from the obligations, or def.
func intObligation(ob decision.Obligations, key string, def int) int {
	switch v := ob.Extra[key].(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil && n > 0 {
			return int(n)
		}
	case float64:
		if v > 0 && v == float64(int(v)) {
			return int(v)
		}
	}
	return def
}

func oktaCall(resp *forward.Response) *bollardv1.OktaCall {
	return &bollardv1.OktaCall{
		HttpStatus: int32(resp.Status),
		RequestId:  resp.RequestID,
		RateLimit:  &bollardv1.RateLimit{Limit: resp.RateLimit.Limit, Remaining: resp.RateLimit.Remaining, Reset_: resp.RateLimit.Reset},
	}
}
