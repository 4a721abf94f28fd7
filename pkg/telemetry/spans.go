package telemetry

import (
	"context"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// SpanDecide is the span around one policy decision.
const SpanDecide = "bollard.decide"

// Attributes of the bollard.decide span. The agent and decision ids are span
// attributes only, never metric labels.
const (
	AttrAgentID          = attribute.Key("bollard.agent.id")
	AttrAction           = attribute.Key("bollard.action")
	AttrArea             = attribute.Key("bollard.area")
	AttrAccess           = attribute.Key("bollard.access")
	AttrDestructive      = attribute.Key("bollard.destructive")
	AttrResult           = attribute.Key("bollard.result")
	AttrDenyCodes        = attribute.Key("bollard.deny_codes")
	AttrObligations      = attribute.Key("bollard.obligations")
	AttrPolicyRevision   = attribute.Key("bollard.policy.revision")
	AttrDecisionID       = attribute.Key("bollard.decision.id")
	AttrDecisionDuration = attribute.Key("bollard.decision.duration_us")
	AttrDryRun           = attribute.Key("bollard.dry_run")
	AttrShadowRevision   = attribute.Key("bollard.shadow.revision")
	AttrShadowAllow      = attribute.Key("bollard.shadow.allow")
	AttrShadowDenyCodes  = attribute.Key("bollard.shadow.deny_codes")
	AttrShadowDifference = attribute.Key("bollard.shadow.difference")
)

// SpanAuditCheckpoint marks each audit checkpoint: its attributes are the
// head to give `audit verify --head` (hashes are not secrets).
const SpanAuditCheckpoint = "bollard.audit.checkpoint"

// Attributes of the bollard.audit.checkpoint span.
const (
	AttrAuditSink = attribute.Key("bollard.audit.sink")
	AttrAuditSeq  = attribute.Key("bollard.audit.seq")
	AttrAuditHash = attribute.Key("bollard.audit.hash")
	AttrAuditHead = attribute.Key("bollard.audit.head") // "SEQ:HASH"
)

// Attributes of an Okta client span: HTTP semantic conventions plus Okta's
// own request id and rate-limit headers.
const (
	AttrHTTPMethod             = semconv.HTTPRequestMethodKey
	AttrURLTemplate            = semconv.URLTemplateKey
	AttrServerAddress          = semconv.ServerAddressKey
	AttrHTTPStatusCode         = semconv.HTTPResponseStatusCodeKey
	AttrErrorType              = semconv.ErrorTypeKey
	AttrOktaRequestID          = attribute.Key("okta.request_id")
	AttrOktaRateLimitRemaining = attribute.Key("okta.rate_limit.remaining")
)

// Decide describes one decision for the bollard.decide span.
type Decide struct {
	AgentID     string
	Action      string
	Area        string
	Access      string // "read" or "write"
	Destructive bool
	Result      string // ResultAllow or ResultDeny
	DenyCodes   []string
	// Obligations are the keys of the obligations the policy returned,
	// sorted; never their values.
	Obligations    []string
	PolicyRevision string
	DecisionID     string
	Duration       time.Duration
	// DryRun is true when the agent is in dry-run: a deny was not enforced.
	DryRun bool
	// Shadow is the shadow policy's decision, when one is configured.
	Shadow *ShadowDecide
}

// ShadowDecide is a shadow policy's decision, for the span.
type ShadowDecide struct {
	Revision   string
	Allow      bool
	DenyCodes  []string
	Difference string // one of the Shadow* labels
}

// Attributes returns d as span attributes.
func (d Decide) Attributes() []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 16)
	attrs = append(attrs,
		AttrAgentID.String(d.AgentID),
		AttrAction.String(d.Action),
		AttrArea.String(d.Area),
		AttrAccess.String(d.Access),
		AttrDestructive.Bool(d.Destructive),
		AttrResult.String(d.Result),
		AttrDenyCodes.StringSlice(d.DenyCodes),
		AttrObligations.StringSlice(d.Obligations),
		AttrPolicyRevision.String(d.PolicyRevision),
		AttrDecisionID.String(d.DecisionID),
		AttrDecisionDuration.Int64(d.Duration.Microseconds()),
	)
	if d.DryRun {
		attrs = append(attrs, AttrDryRun.Bool(true))
	}
	if sh := d.Shadow; sh != nil {
		attrs = append(attrs, AttrShadowRevision.String(sh.Revision), AttrShadowAllow.Bool(sh.Allow),
			AttrShadowDenyCodes.StringSlice(sh.DenyCodes), AttrShadowDifference.String(sh.Difference))
	}
	return attrs
}

// SetDecideAttributes puts d on span, when the span is recorded (otherwise
// building the attributes would be wasted). A deny is an answer, not an
// error, so the span status is left unset.
func SetDecideAttributes(span trace.Span, d Decide) {
	if span.IsRecording() {
		span.SetAttributes(d.Attributes()...)
	}
}

// OktaSpanName is "okta {method} {path template}", for example
// "okta GET /api/v1/users/{userId}": the template, never the path with ids.
func OktaSpanName(method, pathTemplate string) string {
	return "okta " + method + " " + pathTemplate
}

// StartOktaSpan starts the client span of one HTTP request to Okta.
// pathTemplate is the catalog's path with {placeholders}; serverAddress is
// the org's host name. Neither the built path nor the query goes on the span.
func StartOktaSpan(ctx context.Context, tracer trace.Tracer, method, pathTemplate, serverAddress string) (context.Context, trace.Span) {
	return tracer.Start(ctx, OktaSpanName(method, pathTemplate),
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			AttrHTTPMethod.String(method),
			AttrURLTemplate.String(pathTemplate),
			AttrServerAddress.String(serverAddress),
		))
}

// OktaResult is what EndOktaSpan records about one Okta request.
type OktaResult struct {
	// Status is Okta's HTTP status; 0 when no answer came.
	Status    int
	RequestID string // X-Okta-Request-Id
	// RateLimitRemaining is X-Rate-Limit-Remaining, recorded only when
	// HasRateLimit is true (Okta sent the header).
	RateLimitRemaining int64
	HasRateLimit       bool
	// ErrorType is a short fixed word for a failure without a status, such
	// as "okta_timeout" or "canceled". For a status of 400 or more it
	// defaults to the status code.
	ErrorType string
}

// EndOktaSpan records r on span and ends it. A status of 400 or more, or an
// ErrorType, marks the span as failed. The error's text is not recorded: it
// can hold what Okta echoed back of the request.
func EndOktaSpan(span trace.Span, r OktaResult) {
	defer span.End()
	if !span.IsRecording() {
		return
	}
	if r.Status > 0 {
		span.SetAttributes(AttrHTTPStatusCode.Int(r.Status))
	}
	if r.RequestID != "" {
		span.SetAttributes(AttrOktaRequestID.String(r.RequestID))
	}
	if r.HasRateLimit {
		span.SetAttributes(AttrOktaRateLimitRemaining.Int64(r.RateLimitRemaining))
	}
	errType := r.ErrorType
	if errType == "" && r.Status >= 400 {
		errType = strconv.Itoa(r.Status)
	}
	if errType != "" {
		span.SetAttributes(AttrErrorType.String(errType))
		span.SetStatus(codes.Error, errType)
	}
}
