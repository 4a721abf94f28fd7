package sidecar

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/config"
	"github.com/bollard-dev/bollard/pkg/identity"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// DevOptions configures Dev.
type DevOptions struct {
	// Listen is the gRPC address (default 127.0.0.1:8181).
	Listen string
	// AdminListen is the admin HTTP address (default 127.0.0.1:8182).
	AdminListen string
	// MCPListen is the MCP front's address (default 127.0.0.1:8183).
	MCPListen string
	// SimListen is the Okta simulator's address (default: a free loopback port).
	SimListen string
	// PolicyDir, when set, replaces the embedded policies (and is watched).
	PolicyDir string
	// HooksListen is the event hook receiver's address (default: a free
	// loopback port). The simulator's event hook is registered to it, so
	// WatchEvents shows the events of changes made through Bollard.
	HooksListen string
	// Pprof serves Go's profiles at /debug/pprof/ on the admin listener,
	// to loopback peers.
	Pprof bool
	// Out receives the banner (addresses, sample agents, example calls).
	Out io.Writer
	// Logger is the process logger.
	Logger *slog.Logger
	// Ready is called when everything listens.
	Ready func(Addrs)
}

// Dev runs Bollard on the embedded default until ctx ends: the Okta simulator
// on loopback, the shipped policies and the sample agents with their dev keys.
func Dev(ctx context.Context, o DevOptions) error {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	simToken, err := randomHex(24)
	if err != nil {
		return err
	}
	// The simulator is also the people's identity provider: the security
	// engineers who approve agents' calls sign in there.
	sim := oktasim.New(oktasim.WithAPIToken(simToken), oktasim.WithLogger(o.Logger), oktasim.WithPeopleAuthServer(devApproversAudience))
	simAddr, err := sim.Serve(ctx, o.SimListen)
	if err != nil {
		return fmt.Errorf("start the Okta simulator: %w", err)
	}
	orgURL := "http://" + simAddr.String()
	approverTokens, err := devApproverTokens(sim)
	if err != nil {
		return err
	}
	defer func() {
		for _, f := range approverTokens {
			os.Remove(f)
		}
	}()

	cfg := config.Default()
	cfg.Okta.OrgURL = orgURL
	cfg.Okta.APITokenEnv = "unused-in-dev"
	cfg.Identity.KeysFile = "dev-keys"
	if o.Listen != "" {
		cfg.Server.GRPCListen = o.Listen
	}
	if o.AdminListen != "" {
		cfg.Server.AdminListen = o.AdminListen
	}
	cfg.Policy.Dir = o.PolicyDir
	// MCP clients (desktop apps, agent frameworks) reach the same agents.
	cfg.MCP.Enabled = true
	if o.MCPListen != "" {
		cfg.MCP.Listen = o.MCPListen
	}
	hookSecret, err := randomHex(24)
	if err != nil {
		return err
	}
	secretFile, err := writeTemp("bollard-dev-hook-secret-*", hookSecret)
	if err != nil {
		return err
	}
	defer os.Remove(secretFile)
	cfg.Hooks.Listen = cmp.Or(o.HooksListen, "127.0.0.1:0")
	cfg.Server.Pprof = o.Pprof
	cfg.Hooks.SecretFile = secretFile
	cfg.Approvals.Approvers = &config.Approvers{Issuer: orgURL + oktasim.PeopleAuthServerPath, Audience: devApproversAudience,
		JWKSURL: orgURL + oktasim.PeopleAuthServerPath + "/v1/keys"}
	// The web console on the admin listener; its client is registered at
	// the simulator once that listener has its address (below).
	cfg.Approvals.Console = &config.Console{Enabled: true, ClientID: devConsoleClientID}
	cfg.Approvals.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	// Deliveries in flight when dev mode stops are given up.
	defer sim.Close()
	devKeys := identity.DevKeyStore()
	auth, err := identity.New(identity.WithStaticKeys(devKeys))
	if err != nil {
		return err
	}
	// The banner and the audit records share the output: one write each,
	// never at once (the log's own checkpoints start with it).
	out := &lockedWriter{w: o.Out}
	return Run(ctx, cfg, WithLogger(o.Logger), withAuthenticator(auth, devKeys.Has), withOktaToken(simToken), WithAuditStdout(out),
		WithReady(func(a Addrs) {
			// Okta's side of the event hook: the simulator verifies the
			// receiver and then posts the events of every change to it.
			if _, err := sim.RegisterEventHook(ctx, oktasim.EventHook{
				Name: "bollard-dev", URL: "http://" + a.Hooks.String() + cfg.Hooks.Path,
				Headers: map[string]string{cfg.Hooks.AuthHeader: hookSecret}, EventTypes: catalog.EventTypes,
			}); err != nil {
				o.Logger.Error("dev: the simulator's event hook was not registered; WatchEvents will stay quiet", "error", err)
			}
			if a.ConsoleRedirectURL != "" {
				if err := sim.RegisterPeopleClient(oktasim.PeopleClient{ClientID: devConsoleClientID, Name: "Bollard approvals",
					RedirectURIs: []string{a.ConsoleRedirectURL}, PostLogoutRedirectURIs: []string{a.ConsoleURL}}); err != nil {
					o.Logger.Error("dev: the console's client was not registered at the simulator; signing in to the console will fail", "error", err)
				}
			}
			var banner bytes.Buffer
			printBanner(&banner, a, orgURL)
			printApprovers(&banner, a, approverTokens)
			out.Write(banner.Bytes())
			if o.Ready != nil {
				o.Ready(a)
			}
		}))
}

// writeTemp writes content to a new file readable only by this user.
func writeTemp(pattern, content string) (string, error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return "", fmt.Errorf("temporary file: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("temporary file: %w", err)
	}
	return f.Name(), nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func printBanner(w io.Writer, a Addrs, orgURL string) {
	grpcAddr := addrString(a.GRPC)
	fmt.Fprintf(w, "\nBollard dev mode: the built-in Okta simulator, the shipped policies, %d actions, sample agents.\n\n", len(catalog.Actions()))
	fmt.Fprintf(w, "  gRPC       %s  (reflection and grpc.health.v1 on)\n", grpcAddr)
	if a.Admin != nil {
		fmt.Fprintf(w, "  admin      http://%s/healthz  http://%s/readyz\n", a.Admin, a.Admin)
	}
	if a.MCPURL != "" {
		fmt.Fprintf(w, "  mcp        %s  (Streamable HTTP; the same agents and keys; docs/mcp.md)\n", a.MCPURL)
	}
	fmt.Fprintf(w, "  okta sim   %s  (in memory; reset on restart)\n", orgURL)
	if a.Hooks != nil {
		fmt.Fprintf(w, "  hooks      http://%s  (the simulator's event hook posts here; agents watch with WatchEvents)\n", a.Hooks)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Sample agents (dev-only keys; send \"authorization: Bearer <key>\"):\n")
	keys := identity.DevKeys()
	grants, err := SampleGrants()
	if err != nil {
		grants = map[string]map[string]string{}
	}
	ids := make([]string, 0, len(keys))
	for id := range keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(w, "  %-16s key %s\n  %-16s %s\n", id, keys[id], "", describeGrants(grants[id]))
	}
	reader := keys["reader-bot"]
	fmt.Fprintf(w, "\nTry it:\n")
	fmt.Fprintf(w, "  grpcurl -plaintext -H 'authorization: Bearer %s' \\\n    -d '{\"action\":\"users.list\",\"params\":{\"limit\":2}}' %s bollard.v1.GatewayService/Execute\n", reader, grpcAddr)
	fmt.Fprintf(w, "  go run ./examples/client -addr %s\n\n", grpcAddr)
}

// lockedWriter serialises whole writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// devApproversAudience is the audience of the approvers' tokens in dev mode.
const devApproversAudience = "api://bollard-approvals"

// devConsoleClientID is the web console's app at the simulator's identity
// provider.
const devConsoleClientID = "0oaBOLLARDCONSOLE0g7"

// devApprovers are the simulator's security engineers, who approve what
// the shipped policy asks a person to approve.
var devApprovers = []string{"sam.singh@example.com", "tess.turner@example.com"}

// devApproverTokens writes a token of each dev approver, as the
// simulator's identity provider issues them, to a file of its own (24 h).
func devApproverTokens(sim *oktasim.Sim) (map[string]string, error) {
	files := map[string]string{}
	for _, login := range devApprovers {
		tok, err := sim.PersonToken(login, 24*time.Hour)
		if err != nil {
			return files, fmt.Errorf("dev: a token for %s: %w", login, err)
		}
		f, err := writeTemp("bollard-dev-approver-*", tok)
		if err != nil {
			return files, err
		}
		files[login] = f
	}
	return files, nil
}

func printApprovers(w io.Writer, a Addrs, tokens map[string]string) {
	grpcAddr := addrString(a.GRPC)
	fmt.Fprintf(w, "Approvers (security-approvers at the simulator's identity provider; docs/approvals.md):\n")
	for _, login := range devApprovers {
		fmt.Fprintf(w, "  %-26s token in %s\n", login, tokens[login])
	}
	if a.ConsoleURL != "" {
		fmt.Fprintf(w, "  web console %s  (sign in as one of them, password %s)\n", a.ConsoleURL, oktasim.DefaultPeoplePassword)
	}
	fmt.Fprintf(w, "  suspending Carol (an admin) as helpdesk-bot waits for one of them:\n")
	fmt.Fprintf(w, "  go run ./cmd/sidecar approvals list --addr %s --token-file %s\n\n", grpcAddr, tokens[devApprovers[0]])
}
