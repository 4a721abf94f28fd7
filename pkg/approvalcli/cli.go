package approvalcli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/safetext"
)

// maxTokenBytes bounds the token file: a JWT is a few KiB at most.
const maxTokenBytes = 64 << 10

const usage = `usage: sidecar approvals <command> [flags] [approval-id]

commands:
  list     the approvals you may decide (pending by default; --state approved,denied,expired,used,pending)
  show     one approval: the call, its parameters as the audit log keeps them, the votes
  approve  approve it (--comment optional)
  deny     deny it (--reason required; the agent is told)

flags (every command):
  --addr ADDR         the sidecar's gRPC address (default 127.0.0.1:8181)
  --token-file FILE   your token from the identity provider; "-" reads standard input
  --tls, --ca-file FILE, --server-name NAME   TLS to a sidecar that is not on loopback
  --json              print the API's JSON instead of text
  --timeout D         per request (default 10s)
`

// Run runs one approvals command.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return flag.ErrHelp
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("approvals "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := options{}
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8181", "the sidecar's gRPC address")
	fs.StringVar(&o.tokenFile, "token-file", "", `your token from the identity provider ("-": standard input)`)
	fs.BoolVar(&o.tls, "tls", false, "use TLS")
	fs.StringVar(&o.caFile, "ca-file", "", "CA bundle for --tls (default: the system's)")
	fs.StringVar(&o.serverName, "server-name", "", "the name the sidecar's certificate has, for --tls")
	fs.BoolVar(&o.json, "json", false, "print JSON")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "per request")
	states := fs.String("state", "", "list: comma-separated states (default pending)")
	comment := fs.String("comment", "", "approve: a comment for the record")
	reason := fs.String("reason", "", "deny: why (required; the agent is told)")
	switch cmd {
	case "list", "show", "approve", "deny":
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("approvals: unknown command %q", cmd)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	// The id may come before the flags (approve ID --comment ...) as
	// after them.
	id := ""
	if cmd != "list" && fs.NArg() > 0 {
		id = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return err
		}
	}
	if fs.NArg() > 0 || (cmd != "list" && id == "") {
		return fmt.Errorf("approvals %s: %s", cmd, map[bool]string{true: "takes no argument", false: "takes one approval id"}[cmd == "list"])
	}
	if cmd == "deny" && strings.TrimSpace(*reason) == "" {
		return errors.New("approvals deny: --reason is required: the agent and the audit log are told why")
	}
	client, ctx, closeConn, err := o.connect(ctx, stdin)
	if err != nil {
		return err
	}
	defer closeConn()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	p := printer{w: stdout, json: o.json}
	switch cmd {
	case "list":
		var want []bollardv1.ApprovalState
		for _, s := range strings.Split(*states, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			v, ok := bollardv1.ApprovalState_value["APPROVAL_STATE_"+strings.ToUpper(s)]
			if !ok || v == 0 {
				return fmt.Errorf("approvals list: --state %q is not pending, approved, denied, expired or used", s)
			}
			want = append(want, bollardv1.ApprovalState(v))
		}
		return list(ctx, client, want, p)
	case "show":
		resp, err := client.GetApproval(ctx, &bollardv1.GetApprovalRequest{ApprovalId: id})
		if err != nil {
			return failed("show", err)
		}
		return p.approval(resp.GetApproval())
	case "approve":
		resp, err := client.Approve(ctx, &bollardv1.ApproveRequest{ApprovalId: id, Comment: *comment})
		if err != nil {
			return failed("approve", err)
		}
		return p.vote("approved", resp.GetApproval())
	default:
		resp, err := client.Deny(ctx, &bollardv1.DenyRequest{ApprovalId: id, Reason: *reason})
		if err != nil {
			return failed("deny", err)
		}
		return p.vote("denied", resp.GetApproval())
	}
}

type options struct {
	addr, tokenFile, caFile, serverName string
	tls, json                           bool
	timeout                             time.Duration
}

// connect reads the token and dials the sidecar; the token travels in
// clear text only to loopback.
func (o options) connect(ctx context.Context, stdin io.Reader) (bollardv1.ApprovalServiceClient, context.Context, func(), error) {
	token, err := o.token(stdin)
	if err != nil {
		return nil, nil, nil, err
	}
	creds := insecure.NewCredentials()
	if o.tls {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.serverName}
		if o.caFile != "" {
			pem, err := os.ReadFile(o.caFile)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("approvals: --ca-file: %w", err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, nil, nil, errors.New("approvals: --ca-file holds no PEM certificate")
			}
		}
		creds = credentials.NewTLS(cfg)
	} else if !loopback(o.addr) {
		return nil, nil, nil, fmt.Errorf("approvals: %s is not a loopback address: use --tls, your token must not cross the network in clear text", o.addr)
	}
	conn, err := grpc.NewClient(o.addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("approvals: %w", err)
	}
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	return bollardv1.NewApprovalServiceClient(conn), ctx, func() { conn.Close() }, nil
}

func (o options) token(stdin io.Reader) (string, error) {
	if o.tokenFile == "" {
		return "", errors.New("approvals: --token-file is required (your token from the identity provider; \"-\" reads standard input)")
	}
	r := stdin
	if o.tokenFile != "-" {
		f, err := os.Open(o.tokenFile)
		if err != nil {
			return "", fmt.Errorf("approvals: --token-file: %w", err)
		}
		defer f.Close()
		r = f
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxTokenBytes+1))
	if err != nil {
		return "", fmt.Errorf("approvals: read the token: %w", err)
	}
	tok := strings.TrimSpace(string(raw))
	if tok == "" || len(raw) > maxTokenBytes || strings.ContainsAny(tok, " \t\r\n") {
		return "", errors.New("approvals: the token file must hold one token")
	}
	return tok, nil
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func list(ctx context.Context, c bollardv1.ApprovalServiceClient, states []bollardv1.ApprovalState, p printer) error {
	var all []*bollardv1.Approval
	token := ""
	for {
		resp, err := c.ListApprovals(ctx, &bollardv1.ListApprovalsRequest{States: states, PageToken: token})
		if err != nil {
			return failed("list", err)
		}
		all = append(all, resp.GetApprovals()...)
		if token = resp.GetNextPageToken(); token == "" {
			return p.list(all)
		}
	}
}

// failed is a refused request, told with its reason.
func failed(cmd string, err error) error {
	st := status.Convert(err)
	for _, d := range st.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return fmt.Errorf("approvals %s: %s (%s): %s", cmd, st.Code(), ei.GetReason(), st.Message())
		}
	}
	return fmt.Errorf("approvals %s: %s: %s", cmd, st.Code(), st.Message())
}

type printer struct {
	w    io.Writer
	json bool
}

func (p printer) list(as []*bollardv1.Approval) error {
	if p.json {
		return p.printJSON(&bollardv1.ListApprovalsResponse{Approvals: as})
	}
	if len(as) == 0 {
		_, err := fmt.Fprintln(p.w, "no approvals")
		return err
	}
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tAGENT\tACTION\tAPPROVALS\tEXPIRES\tREASON")
	for _, a := range as {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", safetext.Line(a.GetId()), stateName(a.GetState()), safetext.Line(a.GetAgentId()), safetext.Line(a.GetAction()),
			given(a), a.GetApprovers().GetApprovalsNeeded(), a.GetExpiresAt().AsTime().Local().Format(time.DateTime), safetext.Line(a.GetReason()))
	}
	return tw.Flush()
}

func (p printer) approval(a *bollardv1.Approval) error {
	if p.json {
		return p.printJSON(a)
	}
	params, _ := json.Marshal(a.GetParams().AsMap())
	lines := [][2]string{
		{"id", a.GetId()}, {"state", stateName(a.GetState())}, {"agent", a.GetAgentId()}, {"action", a.GetAction()},
		{"parameters", string(params)}, {"reason", a.GetReason()},
		{"approvals", fmt.Sprintf("%d of %d", given(a), a.GetApprovers().GetApprovalsNeeded())},
	}
	lines = append(lines, approvers(a.GetApprovers())...)
	lines = append(lines, [][2]string{
		{"created", a.GetCreatedAt().AsTime().Local().Format(time.DateTime)},
		{"expires", a.GetExpiresAt().AsTime().Local().Format(time.DateTime)},
		{"decision", a.GetDecisionId()},
	}...)
	if t := a.GetTarget(); t != nil {
		raw, _ := json.Marshal(t.AsMap())
		lines = append(lines, [2]string{"target now", string(raw)})
	}
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	for _, l := range lines {
		fmt.Fprintf(tw, "%s:\t%s\n", l[0], safetext.Line(l[1])) // every value, whoever wrote it
	}
	for _, v := range a.GetVotes() {
		verb := "approved"
		if !v.GetApprove() {
			verb = "denied"
		}
		fmt.Fprintf(tw, "vote:\t%s by %s (%s) at %s: %s\n", verb, safetext.Line(v.GetApproverEmail()), safetext.Line(v.GetApproverSubject()),
			v.GetVotedAt().AsTime().Local().Format(time.DateTime), safetext.Line(v.GetComment()))
	}
	return tw.Flush()
}

func (p printer) vote(verb string, a *bollardv1.Approval) error {
	if p.json {
		return p.printJSON(a)
	}
	_, err := fmt.Fprintf(p.w, "%s %s: now %s, %d of %d approvals\n", verb, safetext.Line(a.GetId()), stateName(a.GetState()), given(a), a.GetApprovers().GetApprovalsNeeded())
	return err
}

func (p printer) printJSON(m proto.Message) error {
	raw, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(p.w, string(raw))
	return err
}

func given(a *bollardv1.Approval) int {
	n := 0
	for _, v := range a.GetVotes() {
		if v.GetApprove() {
			n++
		}
	}
	return n
}

func stateName(s bollardv1.ApprovalState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "APPROVAL_STATE_"))
}

// approvers are the lines that say who may approve: the sets exactly, a
// person qualifying only when in every one. Names are quoted, so that a
// name holding a comma or the word "or" still reads as one name. A
// sidecar older than the sets sends only their union, which reads wider
// than the rule: it is shown as such, never as the rule.
func approvers(r *bollardv1.ApproverRequirement) [][2]string {
	sets := r.GetSets()
	switch {
	case len(sets) == 1:
		return [][2]string{{"approvers", anyOf(sets[0].GetGroups(), sets[0].GetUsers())}}
	case len(sets) > 1:
		out := [][2]string{{"approvers", fmt.Sprintf("a person in every one of these %d sets", len(sets))}}
		for i, s := range sets {
			out = append(out, [2]string{fmt.Sprintf("  set %d", i+1), anyOf(s.GetGroups(), s.GetUsers())})
		}
		return out
	case len(r.GetGroups())+len(r.GetUsers()) > 0:
		return [][2]string{{"approvers", anyOf(r.GetGroups(), r.GetUsers()) +
			" (the union of the policy's sets: this sidecar does not send the sets, so a person named here may still not be an approver)"}}
	}
	return [][2]string{{"approvers", "none named"}}
}

// anyOf is one set: a person in any of its groups, or one of its users.
func anyOf(groups, users []string) string {
	var parts []string
	if len(groups) > 0 {
		parts = append(parts, "groups "+quoted(groups))
	}
	if len(users) > 0 {
		parts = append(parts, "users "+quoted(users))
	}
	if len(parts) == 0 {
		return "nobody"
	}
	return strings.Join(parts, " or ")
}

func quoted(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
