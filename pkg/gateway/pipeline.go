package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/audit"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/confirm"
	"github.com/bollard-dev/bollard/pkg/decision"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/shape"
	"github.com/bollard-dev/bollard/pkg/telemetry"
)

// request is one call, whichever RPC it came through.
type request struct {
	action       string
	params       map[string]any
	confirmation string
	// approvalID is the approval of an earlier APPROVAL_PENDING answer.
	approvalID string
	checkOnly  bool // Check: decide, never confirm or forward
	// pages, when set, replaces the single Okta call of step 5 (ExecuteAll).
	pages func(ctx context.Context, out *outcome) error
}

// outcome is what the pipeline learned; record and the RPC replies read it.
type outcome struct {
	// id is the decision id, minted when the call arrives so that every log
	// line, lookup and Okta request of the call carries it.
	id string
	// front is the way the call came in (FrontGRPC, FrontMCP), for the record.
	front    string
	identity identity.Identity
	call     *catalog.Call
	decision decision.Decision
	okta     *forward.Response
	// confirmationUsed is true when a valid token was redeemed for this
	// call, and confirmationOf the decision id of the call that required
	// it ("" when the token's issuer kept none).
	confirmationUsed bool
	confirmationOf   string
	// approval is what policy asks of a person's approval (nil: none);
	// approvalID the approval the call carries once it is approved, and
	// approvalUsed whether it was used for this call.
	approval     *approval.Requirement
	approvalID   string
	approvalUsed bool
	// approvalRef is the approval the call created or named, for the
	// record.
	approvalRef string
	// intent is true once the intent record is written: the call may reach
	// Okta, and its last record is an outcome.
	intent bool
	// auditPending is true when the outcome could not be written and was
	// spooled (or lost, when the spool failed too): the agent is told.
	auditPending bool
	// pages counts the Okta pages an ExecuteAll followed.
	pages int
	// context is the decision input's context (counts, target facts).
	context map[string]any
	// shadow is the shadow policy's decision, when one is configured.
	shadow *telemetry.ShadowDecide
	// dryRun is true when the policy denied but the agent is in dry-run.
	dryRun bool
	// remove are the fields policy hides from the answer.
	remove shape.Remover
	// constraints are the policy's conditions on parameters, whose defaults
	// the gateway sends when the call leaves them out.
	constraints []constraint
}

const (
	maxActionNameLen   = 128
	maxConfirmationLen = confirm.MaxTokenLen
)

// run is the whole path of one request. Every step is one call; an error from
// any step ends the request and is mapped to a status by toStatus.
func (s *Server) run(ctx context.Context, req request) (out *outcome, err error) {
	start := time.Now()
	// 0. id: minted first, so that everything the call causes carries it.
	out = &outcome{id: decision.NewID(start), front: frontOf(ctx)}
	// The agent is told the id whatever becomes of the call, refused before
	// any decision included, so that its answer and the audit record match.
	// Another front carries the id in its own answer.
	if onGRPC(ctx) {
		if err := grpc.SetHeader(ctx, metadata.Pairs(HeaderDecisionID, out.id)); err != nil {
			s.log.LogAttrs(ctx, slog.LevelDebug, "decision id header not set", slog.String("decision_id", out.id), slog.String("error", err.Error()))
		}
	}
	ctx, span := s.tracer.Start(ctx, telemetry.SpanDecide)
	defer span.End()
	defer func() {
		if auditErr := s.record(ctx, span, req, out, err, time.Since(start)); auditErr != nil {
			// No record, no answer: Okta may have acted, but the agent is
			// told the call failed, and the log says why.
			err = auditErr
		}
	}()

	// 1. identity: who is calling? Nothing else happens before this.
	if out.identity, err = s.authenticate(ctx); err != nil {
		return out, err
	}
	// 2. catalog: what is being asked? Parameters validated, path escaped.
	if len(req.action) > maxActionNameLen || len(req.confirmation) > maxConfirmationLen || len(req.approvalID) > maxApprovalIDLen {
		return out, errRequestTooLarge
	}
	if out.call, err = catalog.Bind(req.action, req.params); err != nil {
		return out, err
	}
	if req.pages != nil && (!out.call.Action.Paginated() || out.call.Action.Access != catalog.Read) {
		return out, errNotAList
	}
	// 3. decision: may it? In two stages when it needs facts from Okta,
	// with the shadow policy's opinion beside it; then what the answer
	// must look like (an obligation the sidecar cannot honour fails the
	// call; a query on a hidden attribute is denied).
	hold, err := s.decide(ctx, out, req.checkOnly)
	defer hold.release()
	if err != nil {
		return out, err
	}
	// Read only for a call that may go ahead (a dry-run agent's included):
	// a denial stays a denial, whatever its obligations.
	if out.decision.Allow || s.dryRunAgents[out.identity.ID] {
		if err := readObligations(out); err != nil {
			return out, err
		}
	}
	if req.checkOnly {
		return out, nil
	}
	if !out.decision.Allow {
		if out.dryRun = s.dryRun(ctx, out); !out.dryRun {
			return out, &denyError{decision: out.decision}
		}
	}
	// 4. approval or confirmation: has a person approved it, or the agent
	// confirmed it, when policy asks for that? Both bind the parameters the
	// agent sent, before any default policy adds; a person's approval
	// stands for the agent's own confirmation.
	switch {
	case out.approval != nil:
		if err := s.approvalStep(ctx, out, req.approvalID); err != nil {
			return out, err
		}
	case out.decision.Obligations.RequireConfirmation:
		if err := s.confirmStep(out, req.confirmation); err != nil {
			return out, err
		}
		out.confirmationUsed = true
	}
	if err := applyDefaults(out); err != nil {
		return out, err
	}
	// Cleared to go: the agent's share of the org's quota is spent, and a
	// destructive call counts from here, even if its intent cannot be kept
	// or Okta then fails it. One that cannot be counted does not go, nor
	// one whose decision changed with the fleet's counts (decided again
	// here, so that its intent is the final one's).
	if err := s.spendAndCount(ctx, out, hold); err != nil {
		return out, err
	}
	// The approval is used once, by the call that goes.
	if err := s.redeemApproval(out); err != nil {
		return out, err
	}
	// Write-ahead: nothing reaches Okta unless a sink has kept its intent.
	if err := s.writeIntent(ctx, span, req, out); err != nil {
		return out, err
	}
	// 5. forward: do it at Okta, within the page size policy allows.
	capPageSize(out.call, out.decision.Obligations)
	if req.pages != nil {
		return out, req.pages(ctx, out)
	}
	if out.okta, err = s.okta.Do(ctx, out.call, out.id); err != nil {
		return out, err
	}
	// 6. shape: remove what policy hides from the agent, from writes'
	// answers as from reads'.
	if out.okta.Body, err = out.remove.Apply(out.okta.Body); err != nil {
		return out, err
	}
	// 7. record: the deferred call above, before the reply leaves.
	return out, nil
}

// spend takes one call from the agent's request budget.
func (s *Server) spend(ctx context.Context, out *outcome) error {
	ok, wait, err := s.budget.Spend(ctx, out.identity.ID)
	if err != nil {
		return fmt.Errorf("agent budget: %w", err)
	}
	if !ok {
		return s.budgetRefused(out, wait)
	}
	return nil
}

// budgetRefused is the agent's budget refusing the call for wait.
func (s *Server) budgetRefused(out *outcome, wait time.Duration) error {
	return &budgetExceeded{agent: out.identity.ID, perMinute: s.budget.Limit(out.identity.ID), retryAfter: wait}
}

func (s *Server) authenticate(ctx context.Context) (identity.Identity, error) {
	cred, err := credentialOf(ctx)
	if err != nil {
		return identity.Identity{}, &authError{err: err}
	}
	id, err := s.auth.Authenticate(ctx, cred)
	if err != nil {
		return identity.Identity{}, &authError{err: err}
	}
	return id, nil
}

// input is the decision input for the call, without the stage and the
// context, which decide fills in. Both stages of a call share its time.
func (s *Server) input(out *outcome) decision.Input {
	id, call := out.identity, out.call
	return decision.Input{
		Agent:      decision.Agent{ID: id.ID, AuthMethod: id.Method, Claims: id.Claims},
		Action:     call.Action,
		Resource:   call.Resource,
		Params:     call.Params,
		Time:       s.now(),
		DecisionID: out.id,
	}
}

// confirmStep issues a token when none was sent, or redeems the one sent.
func (s *Server) confirmStep(out *outcome, token string) error {
	hash, err := confirm.HashParams(out.call.Params)
	if err != nil {
		return fmt.Errorf("confirmation binding: %w", err)
	}
	b := confirm.Binding{Agent: out.identity.ID, Action: out.call.Action.Name, ParamsHash: hash}
	if token == "" {
		tok, expires, err := s.confirm.Issue(b, out.id)
		if err != nil {
			return err
		}
		return &confirmationRequired{token: tok, expires: expires, decisionID: out.decision.ID}
	}
	by, err := s.confirm.Redeem(token, b)
	if err != nil {
		return &confirmationRefused{err: err, decisionID: out.decision.ID}
	}
	out.confirmationOf = by
	return nil
}

// record is step 7, before the reply leaves: the audit record (whose
// failure fails the call), the decision's span attributes and metrics, and
// a log line. Parameters are never logged: they may hold personal data; the
// audit record keeps them, masked.
func (s *Server) record(ctx context.Context, span trace.Span, req request, out *outcome, err error, latency time.Duration) error {
	result := "ok"
	if err != nil {
		result = resultOf(err)
	}
	auditErr := s.writeRecord(ctx, span, req, out, result, latency)
	if out.call != nil && out.decision.ID != "" {
		d := out.decision
		metricResult, firstCode := telemetry.ResultAllow, ""
		if !d.Allow {
			metricResult, firstCode = telemetry.ResultDeny, d.Deny[0].Code
		}
		s.inst.Decision(ctx, metricResult, out.call.Action.Area, out.call.Action.Name, firstCode, d.Duration)
		telemetry.SetDecideAttributes(span, telemetry.Decide{
			AgentID: out.identity.ID, Action: out.call.Action.Name, Area: out.call.Action.Area,
			Access: string(out.call.Action.Access), Destructive: out.call.Action.Destructive, Result: result,
			DenyCodes: denyCodes(d), Obligations: obligationKeys(d.Obligations), PolicyRevision: d.Revision,
			DecisionID: d.ID, Duration: d.Duration, DryRun: out.dryRun, Shadow: out.shadow,
		})
	} else if span.IsRecording() {
		span.SetAttributes(telemetry.AttrResult.String(result), telemetry.AttrAgentID.String(out.identity.ID),
			telemetry.AttrDecisionID.String(out.id))
	}
	if err != nil && isServerFault(err) {
		// The status carries the fixed result word, never error text.
		span.SetStatus(otelcodes.Error, result)
	}
	attrs := []slog.Attr{
		slog.String("decision_id", out.id),
		slog.String("agent", out.identity.ID),
		slog.String("action", truncate(req.action, maxActionNameLen)),
		slog.Bool("check_only", req.checkOnly),
		slog.Duration("latency", latency),
	}
	if out.call != nil {
		attrs = append(attrs, slog.Bool("allow", out.decision.Allow), slog.String("policy_revision", out.decision.Revision))
		if codes := denyCodes(out.decision); len(codes) > 0 {
			attrs = append(attrs, slog.Any("deny_codes", codes))
		}
		if out.confirmationUsed {
			attrs = append(attrs, slog.Bool("confirmed", true))
		}
		if out.dryRun {
			attrs = append(attrs, slog.Bool("dry_run", true))
		}
		if out.pages > 0 {
			attrs = append(attrs, slog.Int("pages", out.pages))
		}
	}
	if out.okta != nil {
		attrs = append(attrs, slog.Int("okta_status", out.okta.Status), slog.String("okta_request_id", out.okta.RequestID))
	}
	var oe *forward.Error
	if errors.As(err, &oe) {
		attrs = append(attrs, slog.Int("okta_status", oe.Status), slog.String("okta_request_id", oe.RequestID), slog.String("okta_error_code", oe.Code))
	}
	// The audit record is the account of every call; this line is for
	// operators: errors they must act on, everything else at debug.
	level := slog.LevelDebug
	attrs = append(attrs, slog.String("result", result))
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
		if isServerFault(err) {
			level = slog.LevelError
		}
	}
	s.log.LogAttrs(context.WithoutCancel(ctx), level, "call", attrs...)
	return auditErr
}

// writeIntent writes the call's intent record before it goes to Okta. When
// no sink takes it, the call is refused and Okta never sees it.
func (s *Server) writeIntent(ctx context.Context, span trace.Span, req request, out *outcome) error {
	if s.audit == nil {
		return nil
	}
	r := auditRecord(span, req, out, resultPending, 0)
	r.Kind = audit.KindIntent
	if err := s.audit.Write(context.WithoutCancel(ctx), r); err != nil {
		s.log.LogAttrs(context.WithoutCancel(ctx), slog.LevelError, "audit intent not written; call refused",
			slog.String("decision_id", out.id), slog.String("error", err.Error()))
		return fmt.Errorf("%w: %w", errAuditUnavailable, err)
	}
	out.intent = true
	return nil
}

// writeRecord writes the call's last record: its outcome, when an intent
// went before it, or the whole call. A call that never reached Okta and
// cannot be recorded fails. An outcome that no sink takes is spooled, and
// the agent still gets Okta's answer, marked pending: the call happened,
// and its intent is on record.
func (s *Server) writeRecord(ctx context.Context, span trace.Span, req request, out *outcome, result string, latency time.Duration) error {
	if s.audit == nil {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	r := auditRecord(span, req, out, result, latency)
	if out.intent {
		r.Kind = audit.KindOutcome
	}
	werr := s.audit.Write(ctx, r)
	if werr == nil {
		return nil
	}
	if !out.intent {
		s.log.LogAttrs(ctx, slog.LevelError, "audit record not written",
			slog.String("decision_id", out.id), slog.String("error", werr.Error()))
		return fmt.Errorf("%w: %w", errAuditUnavailable, werr)
	}
	out.auditPending = true
	if serr := s.audit.Spool(ctx, r); serr != nil {
		// The intent is on record; audit verify reports it unpaired.
		s.log.LogAttrs(ctx, slog.LevelError, "audit outcome lost: no sink and no spool took it",
			slog.String("decision_id", out.id), slog.String("error", errors.Join(werr, serr).Error()))
	}
	// Every form of gRPC reply (unary, typed, streamed pages) carries the
	// mark; another front reads out.auditPending.
	if onGRPC(ctx) {
		if err := grpc.SetTrailer(ctx, metadata.Pairs(TrailerAudit, "pending")); err != nil {
			s.log.LogAttrs(ctx, slog.LevelDebug, "audit trailer not set", slog.String("error", err.Error()))
		}
	}
	return nil
}

// HeaderDecisionID is the header that carries the call's decision id, sent
// on every pipeline call: also on a refusal before any decision
// (unauthenticated, invalid), whose audit record has the same id.
const HeaderDecisionID = "bollard-decision-id"

// TrailerAudit is the trailer that says "pending" when the call was carried
// out but its outcome record waits in the spool.
const TrailerAudit = "bollard-audit"

// resultPending is an intent's result: the call is on its way to Okta.
const resultPending = "pending"

// auditRecord is the call as the audit log keeps it.
func auditRecord(span trace.Span, req request, out *outcome, result string, latency time.Duration) *audit.Record {
	r := &audit.Record{
		TraceID: span.SpanContext().TraceID().String(), DecisionID: out.id, AgentID: out.identity.ID, AuthMethod: out.identity.Method, Front: out.front,
		Action: truncate(req.action, maxActionNameLen), Result: result, ConfirmationUsed: out.confirmationUsed, Latency: latency,
	}
	if !span.SpanContext().HasTraceID() {
		r.TraceID = ""
	}
	if out.approvalRef != "" {
		// The approval the call asked for or ran with: the record links the
		// agent's request, the people's votes (kind approval) and the call.
		r.Detail = map[string]any{"approval_id": out.approvalRef, "approval_used": out.approvalUsed}
	}
	if out.confirmationOf != "" {
		// The call that required the confirmation (and, through the MCP
		// front, the person's answer, recorded under that call's id).
		if r.Detail == nil {
			r.Detail = map[string]any{}
		}
		r.Detail["confirmation_of"] = out.confirmationOf
	}
	if c := out.call; c != nil {
		r.Area, r.Access, r.Destructive = c.Action.Area, string(c.Action.Access), c.Action.Destructive
		r.Resource, r.Params = c.Resource, c.Params
	}
	if d := out.decision; d.ID != "" {
		r.PolicyRevision, r.DenyCodes = d.Revision, denyCodes(d)
		r.Context, r.DryRun, r.Shadow = out.context, out.dryRun, shadowRecord(out.shadow)
		r.DenyReasons = make([]audit.Reason, len(d.Deny))
		for i, dr := range d.Deny {
			r.DenyReasons[i] = audit.Reason{Code: dr.Code, Message: dr.Message}
		}
		r.Obligations = map[string]any{"require_confirmation": d.Obligations.RequireConfirmation}
		for k, v := range d.Obligations.Extra {
			r.Obligations[k] = v
		}
		if paths, ok := d.Obligations.Extra[obligationMask].([]any); ok {
			for _, p := range paths {
				if s, ok := p.(string); ok {
					r.Mask = append(r.Mask, s)
				}
			}
		}
	}
	if out.okta != nil {
		r.OktaStatus, r.OktaRequestID = out.okta.Status, out.okta.RequestID
	}
	return r
}

// obligationKeys lists the obligations the policy set (their names, never
// their values), for the span.
func obligationKeys(o decision.Obligations) []string {
	keys := make([]string, 0, 1+len(o.Extra))
	if o.RequireConfirmation {
		keys = append(keys, "require_confirmation")
	}
	for _, k := range slices.Sorted(maps.Keys(o.Extra)) {
		keys = append(keys, k)
	}
	return keys
}

func denyCodes(d decision.Decision) []string {
	codes := make([]string, len(d.Deny))
	for i, r := range d.Deny {
		codes[i] = r.Code
	}
	return codes
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
