package telemetry

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Metric names as recorded; docs/observability.md lists them as Prometheus
// scrapes them (dots become underscores, counters end in _total, seconds
// histograms in _seconds).
const (
	MetricDecisions         = "bollard.decisions"
	MetricDecisionDuration  = "bollard.decision.duration"
	MetricOktaRequests      = "bollard.okta.requests"
	MetricOktaDuration      = "bollard.okta.request.duration"
	MetricOktaRateLimited   = "bollard.okta.rate_limited"
	MetricOktaRetries       = "bollard.okta.retries"
	MetricOktaRateLimitLeft = "bollard.okta.rate_limit.remaining"
	MetricOktaInFlightCap   = "bollard.okta.in_flight.cap"
	MetricAuditRecords      = "bollard.audit.records"
	MetricAuditFailures     = "bollard.audit.failures"
	MetricAuditPending      = "bollard.audit.spool.pending"
	MetricAuditCheckpoint   = "bollard.audit.checkpoint.seq"
	MetricPolicyReloads     = "bollard.policy.reloads"
	MetricPolicyRevision    = "bollard.policy.revision"
	MetricShadowDecisions   = "bollard.policy.shadow.decisions"
	MetricDryRunOverrides   = "bollard.policy.dry_run.overrides"
	MetricEventsOffered     = "bollard.events.offered"
	MetricEventGaps         = "bollard.events.gap_missed"
	MetricHookDeliveries    = "bollard.hooks.deliveries"
	MetricHookEvents        = "bollard.hooks.events"
	MetricHookRejected      = "bollard.hooks.rejected"
	MetricStateAvailable    = "bollard.state.available"
	MetricStateUnreachable  = "bollard.state.unreachable"
)

// Decision results, the result label of bollard.decisions.
const (
	ResultAllow = "allow"
	ResultDeny  = "deny"
)

// Bucket boundaries in seconds. A decision is an in-memory OPA evaluation
// (microseconds); an HTTP request to Okta is a round trip over the internet
// that Okta may hold for seconds under load.
var (
	decisionBuckets = []float64{5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2}
	oktaBuckets     = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
)

// Observed gives the values the gauges read at each collection (a scrape, an
// OTLP push). The funcs may run concurrently with each other and with the
// request path, so they must be safe for that. Either may be nil, and then its
// gauge reports nothing.
type Observed struct {
	// RateLimitRemaining is Okta's last X-Rate-Limit-Remaining per rate-limit
	// bucket ("GET /api/v1/users/{userId}": a method and path template).
	RateLimitRemaining func() map[string]int64
	// PolicyRevision is the revision of the policy in force; "" when none is
	// loaded.
	PolicyRevision func() string
	// AuditPending is how many records wait in the audit spool for a sink.
	AuditPending func() int64
	// OktaInFlightCap is the cap on requests in flight to Okta now: lowered
	// while Okta reports its concurrent limit met.
	OktaInFlightCap func() int64
	// StateAvailable reports whether the store the fleet shares answers;
	// nil with the memory backend, which has none.
	StateAvailable func() bool
}

// Instruments records Bollard's metrics. Methods on a nil *Instruments do
// nothing, so code under test may leave it out. Label values must come from
// closed sets (catalog action names, areas, deny codes, sink names): every new
// value is a new series.
type Instruments struct {
	decisions        metric.Int64Counter
	decisionDuration metric.Float64Histogram
	oktaRequests     metric.Int64Counter
	oktaDuration     metric.Float64Histogram
	rateLimited      metric.Int64Counter
	retries          metric.Int64Counter
	auditRecords     metric.Int64Counter
	auditFailures    metric.Int64Counter
	auditCheckpoint  metric.Int64Gauge
	policyReloads    metric.Int64Counter
	shadowDecisions  metric.Int64Counter
	dryRunOverrides  metric.Int64Counter
	eventsOffered    metric.Int64Counter
	eventGaps        metric.Int64Counter
	hookDeliveries   metric.Int64Counter
	hookEvents       metric.Int64Counter
	hookRejected     metric.Int64Counter
	stateUnreachable metric.Int64Counter

	decisionAttrs *attrCache[decisionKey]
	resultAttrs   *attrCache[string]
	oktaAttrs     *attrCache[oktaKey]
	actionAttrs   *attrCache[string]
	limitedAttrs  *attrCache[limitedKey]
	retryAttrs    *attrCache[retryKey]
	sinkAttrs     *attrCache[string]
	shadowAttrs   *attrCache[string]
	eventAttrs    *attrCache[eventKey]
	reasonAttrs   *attrCache[string]
	partAttrs     *attrCache[string]
	hookNew       attrOpts
	hookDuplicate attrOpts
	reloadOK      attrOpts
	reloadError   attrOpts
}

type decisionKey struct{ result, area, action, denyCode string }

type eventKey struct{ area, result string }

type oktaKey struct {
	action string
	status int
}

type limitedKey struct {
	action string
	held   bool
}

type retryKey struct{ action, reason string }

// NewInstruments creates the instruments on mp (Telemetry.MeterProvider).
func NewInstruments(mp metric.MeterProvider, o Observed) (*Instruments, error) {
	m := mp.Meter(ScopeName)
	in := &Instruments{
		decisionAttrs: newAttrCache(func(k decisionKey) attribute.Set {
			return attribute.NewSet(attribute.String("result", k.result), attribute.String("area", k.area),
				attribute.String("action", k.action), attribute.String("deny_code", k.denyCode))
		}),
		resultAttrs: newAttrCache(func(r string) attribute.Set { return attribute.NewSet(attribute.String("result", r)) }),
		oktaAttrs: newAttrCache(func(k oktaKey) attribute.Set {
			return attribute.NewSet(attribute.String("action", k.action), attribute.String("status", statusLabel(k.status)))
		}),
		actionAttrs: newAttrCache(func(a string) attribute.Set { return attribute.NewSet(attribute.String("action", a)) }),
		limitedAttrs: newAttrCache(func(k limitedKey) attribute.Set {
			return attribute.NewSet(attribute.String("action", k.action), attribute.Bool("held", k.held))
		}),
		retryAttrs: newAttrCache(func(k retryKey) attribute.Set {
			return attribute.NewSet(attribute.String("action", k.action), attribute.String("reason", k.reason))
		}),
		sinkAttrs:   newAttrCache(func(s string) attribute.Set { return attribute.NewSet(attribute.String("sink", s)) }),
		shadowAttrs: newAttrCache(func(d string) attribute.Set { return attribute.NewSet(attribute.String("difference", d)) }),
		eventAttrs: newAttrCache(func(k eventKey) attribute.Set {
			return attribute.NewSet(attribute.String("area", k.area), attribute.String("result", k.result))
		}),
		reasonAttrs:   newAttrCache(func(r string) attribute.Set { return attribute.NewSet(attribute.String("reason", r)) }),
		partAttrs:     newAttrCache(func(p string) attribute.Set { return attribute.NewSet(attribute.String("part", p)) }),
		hookNew:       newAttrOpts(attribute.NewSet(attribute.String("result", "accepted"))),
		hookDuplicate: newAttrOpts(attribute.NewSet(attribute.String("result", "duplicate"))),
		reloadOK:      newAttrOpts(attribute.NewSet(attribute.String("result", "ok"))),
		reloadError:   newAttrOpts(attribute.NewSet(attribute.String("result", "error"))),
	}
	var errs []error
	counter := func(name, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	histogram := func(name, desc string, buckets []float64) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, metric.WithDescription(desc), metric.WithUnit("s"),
			metric.WithExplicitBucketBoundaries(buckets...))
		errs = append(errs, err)
		return h
	}
	in.decisions = counter(MetricDecisions, "Policy decisions, by result, area, action and first deny code.")
	in.decisionDuration = histogram(MetricDecisionDuration, "Time taken by one policy decision.", decisionBuckets)
	in.oktaRequests = counter(MetricOktaRequests, "HTTP requests sent to Okta, retries included, by action and status.")
	in.oktaDuration = histogram(MetricOktaDuration, "Time taken by one HTTP request to Okta.", oktaBuckets)
	in.rateLimited = counter(MetricOktaRateLimited, "Calls refused for Okta rate limits: by Okta (429) or held back by Bollard.")
	in.retries = counter(MetricOktaRetries, "Okta requests retried, by action and reason.")
	in.auditRecords = counter(MetricAuditRecords, "Audit records written, by sink.")
	in.auditFailures = counter(MetricAuditFailures, "Audit records a sink failed to write.")
	var err error
	in.auditCheckpoint, err = m.Int64Gauge(MetricAuditCheckpoint,
		metric.WithDescription("Seq of the last checkpoint each audit sink wrote: the head audit verify --head checks, with its hash in the bollard.audit.checkpoint span."))
	errs = append(errs, err)
	in.policyReloads = counter(MetricPolicyReloads, "Policy reloads, by result.")
	in.shadowDecisions = counter(MetricShadowDecisions, "Calls decided by the shadow policy too, by difference from the enforced decision: none, allow_to_deny, deny_to_allow, reasons, obligations.")
	in.eventsOffered = counter(MetricEventsOffered, "Okta events offered to a watching agent, by area and result: delivered or filtered by policy.")
	in.hookDeliveries = counter(MetricHookDeliveries, "Okta event hook deliveries accepted by the receiver.")
	in.hookEvents = counter(MetricHookEvents, "Events in accepted deliveries, by result: accepted, or duplicate (already received).")
	in.hookRejected = counter(MetricHookRejected, "Event hook requests refused by the receiver, by reason (unauthorized, too_large, bad_json, ...).")
	in.eventGaps = counter(MetricEventGaps, "Events a watching agent missed because it did not keep up.")
	in.stateUnreachable = counter(MetricStateUnreachable, "Shared-state commands that failed to reach the store, by part: impact, budget, confirm, okta_limits, events, approvals, console.")
	in.dryRunOverrides = counter(MetricDryRunOverrides, "Calls the policy denied that went ahead because the agent is in dry-run, by action.")

	if f := o.RateLimitRemaining; f != nil {
		_, err := m.Int64ObservableGauge(MetricOktaRateLimitLeft,
			metric.WithDescription("Requests left in the Okta rate-limit window, as Okta last reported, by bucket."),
			metric.WithInt64Callback(func(_ context.Context, obs metric.Int64Observer) error {
				for bucket, n := range f() {
					obs.Observe(n, metric.WithAttributes(attribute.String("bucket", bucket)))
				}
				return nil
			}))
		errs = append(errs, err)
	}
	if f := o.PolicyRevision; f != nil {
		_, err := m.Int64ObservableGauge(MetricPolicyRevision,
			metric.WithDescription("Always 1; the revision label names the policy revision in force."),
			metric.WithInt64Callback(func(_ context.Context, obs metric.Int64Observer) error {
				if rev := f(); rev != "" {
					obs.Observe(1, metric.WithAttributes(attribute.String("revision", rev)))
				}
				return nil
			}))
		errs = append(errs, err)
	}
	if f := o.OktaInFlightCap; f != nil {
		_, err := m.Int64ObservableGauge(MetricOktaInFlightCap,
			metric.WithDescription("The cap on requests in flight to Okta now; below limits.okta_max_in_flight while Okta reports its concurrent limit met."),
			metric.WithInt64Callback(func(_ context.Context, obs metric.Int64Observer) error {
				obs.Observe(f())
				return nil
			}))
		errs = append(errs, err)
	}
	if f := o.StateAvailable; f != nil {
		_, err := m.Int64ObservableGauge(MetricStateAvailable,
			metric.WithDescription("1 while the store the fleet shares (state.backend: redis) answers, 0 while it cannot be reached (state.when_unavailable applies)."),
			metric.WithInt64Callback(func(_ context.Context, obs metric.Int64Observer) error {
				var v int64
				if f() {
					v = 1
				}
				obs.Observe(v)
				return nil
			}))
		errs = append(errs, err)
	}
	if f := o.AuditPending; f != nil {
		_, err := m.Int64ObservableGauge(MetricAuditPending,
			metric.WithDescription("Audit records (outcomes of calls Okta carried out) waiting in the spool because no sink took them; alert on any."),
			metric.WithInt64Callback(func(_ context.Context, obs metric.Int64Observer) error {
				obs.Observe(f())
				return nil
			}))
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return in, nil
}

// Decision records one policy decision. denyCode is the first deny code, ""
// when allowed.
func (in *Instruments) Decision(ctx context.Context, result, area, action, denyCode string, d time.Duration) {
	if in == nil {
		return
	}
	in.decisions.Add(ctx, 1, in.decisionAttrs.get(decisionKey{result, area, action, denyCode}).add...)
	in.decisionDuration.Record(ctx, d.Seconds(), in.resultAttrs.get(result).rec...)
}

// Shadow difference labels, from the enforced decision to the shadow's.
const (
	ShadowSame        = "none"
	ShadowAllowToDeny = "allow_to_deny"
	ShadowDenyToAllow = "deny_to_allow"
	ShadowReasons     = "reasons"
	ShadowObligations = "obligations"
)

// ShadowDecision records one call decided by the shadow policy as well;
// difference is one of the Shadow* labels.
func (in *Instruments) ShadowDecision(ctx context.Context, difference string) {
	if in == nil {
		return
	}
	in.shadowDecisions.Add(ctx, 1, in.shadowAttrs.get(difference).add...)
}

// EventOffered records one event decided for one watching agent.
func (in *Instruments) EventOffered(ctx context.Context, area, result string) {
	if in == nil {
		return
	}
	in.eventsOffered.Add(ctx, 1, in.eventAttrs.get(eventKey{area, result}).add...)
}

// HookDelivery records one accepted event hook delivery.
func (in *Instruments) HookDelivery(ctx context.Context, accepted, duplicates int) {
	if in == nil {
		return
	}
	in.hookDeliveries.Add(ctx, 1)
	if accepted > 0 {
		in.hookEvents.Add(ctx, int64(accepted), in.hookNew.add...)
	}
	if duplicates > 0 {
		in.hookEvents.Add(ctx, int64(duplicates), in.hookDuplicate.add...)
	}
}

// HookRejected records a refused event hook request; reason is a closed set.
func (in *Instruments) HookRejected(ctx context.Context, reason string) {
	if in == nil {
		return
	}
	in.hookRejected.Add(ctx, 1, in.reasonAttrs.get(reason).add...)
}

// EventGap records events a watching agent missed.
func (in *Instruments) EventGap(ctx context.Context, missed int) {
	if in == nil || missed <= 0 {
		return
	}
	in.eventGaps.Add(ctx, int64(missed))
}

// StateUnreachable records one shared-state command of part that failed
// to reach the store; part is a closed set (state.Store.Part's names).
func (in *Instruments) StateUnreachable(ctx context.Context, part string) {
	if in == nil {
		return
	}
	in.stateUnreachable.Add(ctx, 1, in.partAttrs.get(part).add...)
}

// DryRunOverride records a denied call that went ahead in dry-run.
func (in *Instruments) DryRunOverride(ctx context.Context, action string) {
	if in == nil {
		return
	}
	in.dryRunOverrides.Add(ctx, 1, in.actionAttrs.get(action).add...)
}

// OktaRequest records one HTTP request to Okta. status is Okta's HTTP status,
// or 0 when no answer came (labelled "error").
func (in *Instruments) OktaRequest(ctx context.Context, action string, status int, d time.Duration) {
	if in == nil {
		return
	}
	in.oktaRequests.Add(ctx, 1, in.oktaAttrs.get(oktaKey{action, status}).add...)
	in.oktaDuration.Record(ctx, d.Seconds(), in.actionAttrs.get(action).rec...)
}

// RateLimited records a call stopped by a rate limit: held is true when
// Bollard held it back to keep its share, false when Okta answered 429.
func (in *Instruments) RateLimited(ctx context.Context, action string, held bool) {
	if in == nil {
		return
	}
	in.rateLimited.Add(ctx, 1, in.limitedAttrs.get(limitedKey{action, held}).add...)
}

// Retry records one retried Okta request; reason is a short fixed word:
// "rate_limited" (429), "timeout" or "unavailable" (transport, 502-504).
func (in *Instruments) Retry(ctx context.Context, action, reason string) {
	if in == nil {
		return
	}
	in.retries.Add(ctx, 1, in.retryAttrs.get(retryKey{action, reason}).add...)
}

// AuditWritten records one audit record written to sink.
func (in *Instruments) AuditWritten(ctx context.Context, sink string) {
	if in == nil {
		return
	}
	in.auditRecords.Add(ctx, 1, in.sinkAttrs.get(sink).add...)
}

// AuditFailed records one audit record sink failed to write.
func (in *Instruments) AuditFailed(ctx context.Context, sink string) {
	if in == nil {
		return
	}
	in.auditFailures.Add(ctx, 1, in.sinkAttrs.get(sink).add...)
}

// AuditCheckpoint records the seq of the checkpoint sink has just written.
func (in *Instruments) AuditCheckpoint(ctx context.Context, sink string, seq uint64) {
	if in == nil {
		return
	}
	in.auditCheckpoint.Record(ctx, int64(seq), in.sinkAttrs.get(sink).rec...)
}

// PolicyReload records one policy reload attempt.
func (in *Instruments) PolicyReload(ctx context.Context, ok bool) {
	if in == nil {
		return
	}
	o := in.reloadError
	if ok {
		o = in.reloadOK
	}
	in.policyReloads.Add(ctx, 1, o.add...)
}

func statusLabel(status int) string {
	if status <= 0 {
		return "error"
	}
	return strconv.Itoa(status)
}

// attrOpts are the measurement options for one attribute set, built once:
// passing a stored slice to Add or Record allocates nothing per call.
type attrOpts struct {
	add []metric.AddOption
	rec []metric.RecordOption
}

func newAttrOpts(set attribute.Set) attrOpts {
	opt := metric.WithAttributeSet(set)
	return attrOpts{add: []metric.AddOption{opt}, rec: []metric.RecordOption{opt}}
}

// maxCachedSets bounds each cache; past it, sets are built per call (slower,
// still correct). The SDK's own cardinality limit bounds what is exported.
const maxCachedSets = 1024

// attrCache keeps the attribute set of each label combination seen. Reads
// are lock-free: the map is replaced, never changed, and misses are rare once
// the set of actions in use has been seen.
type attrCache[K comparable] struct {
	build func(K) attribute.Set
	mu    sync.Mutex // serialises writers
	m     atomic.Pointer[map[K]attrOpts]
}

func newAttrCache[K comparable](build func(K) attribute.Set) *attrCache[K] {
	c := &attrCache[K]{build: build}
	c.m.Store(&map[K]attrOpts{})
	return c
}

func (c *attrCache[K]) get(k K) attrOpts {
	if o, ok := (*c.m.Load())[k]; ok {
		return o
	}
	o := newAttrOpts(c.build(k))
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.m.Load()
	if len(old) < maxCachedSets {
		m := make(map[K]attrOpts, len(old)+1)
		maps.Copy(m, old)
		m[k] = o
		c.m.Store(&m)
	}
	return o
}
