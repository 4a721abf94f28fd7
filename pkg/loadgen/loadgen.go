package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/loopback"
)

// The RPCs a run can drive: the gateway's Check and Execute, the baseline
// that sends the action straight to Okta (okta.go), and the sidecar's gRPC
// health check, which does no work: the floor of any gRPC call to it.
const (
	RPCCheck   = "check"
	RPCExecute = "execute"
	RPCOkta    = "okta"
	RPCHealth  = "health"
)

// Options is one load run.
type Options struct {
	Target      string // host:port or unix:///path
	Key         string // agent credential
	RPC         string // RPCCheck, RPCExecute, RPCOkta or RPCHealth
	Action      string
	Params      map[string]any
	Concurrency int
	Conns       int // gRPC connections the callers share
	Duration    time.Duration
	MaxRequests int64
	AllowRemote bool
	// OktaURL and OktaToken are where RPCOkta sends the action and the SSWS
	// token it sends with it (the credential Bollard would use).
	OktaURL   string
	OktaToken string
}

// Result is what a run measured.
type Result struct {
	Requests  int64
	Errors    map[string]int64 // by gRPC code
	Elapsed   time.Duration
	Latencies []time.Duration // sorted
}

// RPS is requests per second over the run.
func (r Result) RPS() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// Percentile returns the p-th percentile latency (0 < p <= 100).
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.Latencies))*p/100+0.5) - 1
	return r.Latencies[max(0, min(i, len(r.Latencies)-1))]
}

// Report prints what r measured of the run o, as `sidecar load` does.
func (r Result) Report(w io.Writer, o Options) {
	if o.RPC == RPCOkta {
		fmt.Fprintf(w, "%s %s: %d callers straight to %s for %s\n", o.RPC, o.Action, o.Concurrency, o.OktaURL, r.Elapsed.Round(time.Millisecond))
	} else {
		fmt.Fprintf(w, "%s %s: %d callers on %d connections for %s\n", o.RPC, o.Action, o.Concurrency, o.Conns, r.Elapsed.Round(time.Millisecond))
	}
	fmt.Fprintf(w, "requests %d  rps %.0f  p50 %s  p90 %s  p99 %s  max %s\n", r.Requests, r.RPS(),
		r.Percentile(50), r.Percentile(90), r.Percentile(99), r.Percentile(100))
	if len(r.Errors) > 0 {
		fmt.Fprintf(w, "errors %v\n", r.Errors)
	}
}

// Run drives the target and returns what it measured.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := o.validate(); err != nil {
		return Result{}, err
	}
	var call func(ctx context.Context, worker int) error
	var err error
	if o.RPC == RPCOkta {
		var stop func()
		call, stop, err = oktaCaller(o)
		if err != nil {
			return Result{}, err
		}
		defer stop()
	} else {
		// The key goes on the run's context once, not on every call.
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+o.Key)
		var conns []*grpc.ClientConn
		call, conns, err = gatewayCaller(o)
		for _, c := range conns {
			defer c.Close()
		}
		if err != nil {
			return Result{}, err
		}
	}
	// One call first, so a wrong address or key fails fast and clearly.
	if err := call(ctx, 0); err != nil {
		return Result{}, fmt.Errorf("first call: %w", err)
	}
	return drive(ctx, o, call), nil
}

// gatewayCaller calls the sidecar's Check, Execute or health check, the
// callers spread over o.Conns connections.
func gatewayCaller(o Options) (func(context.Context, int) error, []*grpc.ClientConn, error) {
	conns := make([]*grpc.ClientConn, 0, o.Conns)
	clients := make([]bollardv1.GatewayServiceClient, o.Conns)
	health := make([]healthpb.HealthClient, o.Conns)
	for i := range clients {
		conn, err := grpc.NewClient(o.Target, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, conns, fmt.Errorf("dial %s: %w", o.Target, err)
		}
		conns = append(conns, conn)
		clients[i], health[i] = bollardv1.NewGatewayServiceClient(conn), healthpb.NewHealthClient(conn)
	}
	params, err := structpb.NewStruct(o.Params)
	if err != nil {
		return nil, conns, fmt.Errorf("params: %w", err)
	}
	req := &bollardv1.ExecuteRequest{Action: o.Action, Params: params}
	return func(ctx context.Context, worker int) error {
		client := clients[worker%len(clients)]
		switch o.RPC {
		case RPCExecute:
			_, err := client.Execute(ctx, req)
			return err
		case RPCHealth:
			_, err := health[worker%len(health)].Check(ctx, &healthpb.HealthCheckRequest{})
			return err
		}
		_, err := client.Check(ctx, req)
		return err
	}, conns, nil
}

// drive runs o.Concurrency callers of call until the duration or the
// request count runs out.
//
// Calls carry no run deadline: a deadline sent to the server expires there
// first and would count the last calls as errors. The run stops by the
// clock instead, and in-flight calls finish.
func drive(ctx context.Context, o Options, call func(context.Context, int) error) Result {
	var issued atomic.Int64
	var mu sync.Mutex
	res := Result{Errors: map[string]int64{}}
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(o.Duration)
	for i := range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1<<14)
			errs := map[string]int64{}
			for ctx.Err() == nil && issued.Add(1) <= o.MaxRequests {
				t0 := time.Now()
				if t0.After(end) {
					break
				}
				err := call(ctx, i)
				lat = append(lat, time.Since(t0))
				if err != nil {
					errs[errorKey(err)]++
				}
			}
			mu.Lock()
			res.Latencies = append(res.Latencies, lat...)
			for k, v := range errs {
				res.Errors[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Requests = int64(len(res.Latencies))
	slices.Sort(res.Latencies)
	return res
}

// errorKey is how a failed call is counted: Okta's HTTP status, the gRPC
// code, or "transport" for a request that got no answer.
func errorKey(err error) string {
	if se, ok := errors.AsType[*StatusError](err); ok {
		return fmt.Sprintf("HTTP %d", se.Status)
	}
	if s, ok := status.FromError(err); ok {
		return s.Code().String()
	}
	return "transport"
}

func (o Options) validate() error {
	var errs []error
	if o.RPC != RPCCheck && o.RPC != RPCExecute && o.RPC != RPCOkta && o.RPC != RPCHealth {
		errs = append(errs, errors.New("rpc must be check, execute, okta or health"))
	}
	if o.Concurrency < 1 || o.Concurrency > 1024 {
		errs = append(errs, errors.New("concurrency must be between 1 and 1024"))
	}
	if o.Conns < 1 || o.Conns > o.Concurrency {
		errs = append(errs, errors.New("connections must be between 1 and the concurrency"))
	}
	if o.Duration <= 0 || o.Duration > 5*time.Minute {
		errs = append(errs, errors.New("duration must be between 0 and 5m"))
	}
	if o.MaxRequests < 1 {
		errs = append(errs, errors.New("max requests must be positive"))
	}
	if o.RPC == RPCOkta {
		errs = append(errs, o.validateOkta()...)
	} else if !o.AllowRemote && !isLocal(o.Target) {
		errs = append(errs, fmt.Errorf("target %q is not loopback or a unix socket (use --allow-remote)", o.Target))
	}
	return errors.Join(errs...)
}

func isLocal(target string) bool {
	if strings.HasPrefix(target, "unix:") {
		return true
	}
	return loopback.Addr(target)
}
