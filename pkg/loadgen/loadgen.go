package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/loopback"
)

// Options is one load run.
type Options struct {
	Target      string // host:port or unix:///path
	Key         string // agent credential
	RPC         string // "check" or "execute"
	Action      string
	Params      map[string]any
	Concurrency int
	Conns       int // gRPC connections the callers share
	Duration    time.Duration
	MaxRequests int64
	AllowRemote bool
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

// Main is `sidecar load`.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	var params string
	fs.StringVar(&o.Target, "addr", "127.0.0.1:8181", "sidecar gRPC address (host:port or unix:///path)")
	fs.StringVar(&o.Key, "key", "", "agent key (default: the dev reader-bot key)")
	fs.StringVar(&o.RPC, "rpc", "check", "check or execute")
	fs.StringVar(&o.Action, "action", "users.get", "catalog action")
	fs.StringVar(&params, "params", `{"userId":"00uALIactive000000g7"}`, "action parameters (JSON object)")
	fs.IntVar(&o.Concurrency, "c", 32, "concurrent callers")
	fs.IntVar(&o.Conns, "conns", 1, "gRPC connections shared by the callers")
	fs.DurationVar(&o.Duration, "d", 10*time.Second, "duration (at most 5m)")
	fs.Int64Var(&o.MaxRequests, "n", 5_000_000, "stop after this many requests")
	fs.BoolVar(&o.AllowRemote, "allow-remote", false, "allow a target that is not loopback or a unix socket")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(params), &o.Params); err != nil {
		return fmt.Errorf("--params: %w", err)
	}
	if o.Key == "" {
		o.Key = identity.DevKeys()["reader-bot"]
	}
	res, err := Run(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s %s: %d callers on %d connections for %s\n", o.RPC, o.Action, o.Concurrency, o.Conns, res.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(stdout, "requests %d  rps %.0f  p50 %s  p90 %s  p99 %s  max %s\n", res.Requests, res.RPS(),
		res.Percentile(50), res.Percentile(90), res.Percentile(99), res.Percentile(100))
	if len(res.Errors) > 0 {
		fmt.Fprintf(stdout, "errors %v\n", res.Errors)
	}
	return nil
}

// Run drives the target and returns what it measured.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := o.validate(); err != nil {
		return Result{}, err
	}
	clients := make([]bollardv1.GatewayServiceClient, o.Conns)
	for i := range clients {
		conn, err := grpc.NewClient(o.Target, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return Result{}, fmt.Errorf("dial %s: %w", o.Target, err)
		}
		defer conn.Close()
		clients[i] = bollardv1.NewGatewayServiceClient(conn)
	}
	params, err := structpb.NewStruct(o.Params)
	if err != nil {
		return Result{}, fmt.Errorf("params: %w", err)
	}
	req := &bollardv1.ExecuteRequest{Action: o.Action, Params: params}
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+o.Key)
	call := func(ctx context.Context, client bollardv1.GatewayServiceClient) error {
		if o.RPC == "execute" {
			_, err := client.Execute(ctx, req)
			return err
		}
		_, err := client.Check(ctx, req)
		return err
	}
	// One call first, so a wrong address or key fails fast and clearly.
	if err := call(ctx, clients[0]); err != nil {
		return Result{}, fmt.Errorf("first call: %w", err)
	}

	// Calls carry no run deadline: a deadline sent to the server expires
	// there first and would count the last calls as errors. The run stops
	// by the clock instead, and in-flight calls finish.
	var issued atomic.Int64
	var mu sync.Mutex
	res := Result{Errors: map[string]int64{}}
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(o.Duration)
	for i := range o.Concurrency {
		client := clients[i%len(clients)]
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
				err := call(ctx, client)
				lat = append(lat, time.Since(t0))
				if err != nil {
					errs[status.Code(err).String()]++
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
	return res, nil
}

func (o Options) validate() error {
	var errs []error
	if o.RPC != "check" && o.RPC != "execute" {
		errs = append(errs, errors.New("rpc must be check or execute"))
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
	if !o.AllowRemote && !isLocal(o.Target) {
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
