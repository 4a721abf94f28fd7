// Command client is a small agent calling Bollard over gRPC, the way an AI
// agent's tool layer would. Against `go run ./cmd/sidecar dev` it shows:
//
//  1. an allowed read: reader-bot lists users;
//  2. a denied write: reader-bot may not deactivate anyone;
//  3. a destructive action that needs confirmation: helpdesk-bot deactivates
//     a user, is asked to confirm, and succeeds with the token;
//  4. the typed API: helpdesk-bot reads the user back with the generated stub.
//
// Usage: go run ./examples/client [-addr 127.0.0.1:8181]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	oktav1 "github.com/bollard-dev/bollard/api/proto/bollard/okta/v1"
	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8181", "Bollard gRPC address")
	readerKey := flag.String("reader-key", "bk_dev_reader-bot_DO-NOT-USE-IN-PRODUCTION", "reader-bot's key (dev mode prints it)")
	helpdeskKey := flag.String("helpdesk-key", "bk_dev_helpdesk-bot_DO-NOT-USE-IN-PRODUCTION", "helpdesk-bot's key (dev mode prints it)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr, *readerKey, *helpdeskKey, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr, readerKey, helpdeskKey string, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		return err
	}
	defer conn.Close()
	gw := bollardv1.NewGatewayServiceClient(conn)
	reader := withKey(ctx, readerKey)
	helpdesk := withKey(ctx, helpdeskKey)

	// 1. An allowed read.
	fmt.Fprintln(out, "1. reader-bot: users.list (allowed read)")
	list, err := gw.Execute(reader, &bollardv1.ExecuteRequest{
		Action: "users.list",
		Params: mustStruct(map[string]any{"search": `status eq "ACTIVE"`, "limit": 5}),
	})
	if err != nil {
		return fmt.Errorf("users.list: %w", err)
	}
	var target, targetLogin string
	for _, u := range list.GetResult().GetListValue().GetValues() {
		f := u.GetStructValue().GetFields()
		login := f["profile"].GetStructValue().GetFields()["login"].GetStringValue()
		fmt.Fprintf(out, "   %s  %-30s %s\n", f["id"].GetStringValue(), login, f["status"].GetStringValue())
		if target == "" && login != "ada.admin@example.com" {
			target, targetLogin = f["id"].GetStringValue(), login
		}
	}
	fmt.Fprintf(out, "   decision %s, okta status %d, rate limit remaining %d, next cursor %q\n",
		list.GetDecisionId(), list.GetOkta().GetHttpStatus(), list.GetOkta().GetRateLimit().GetRemaining(), list.GetNextCursor())
	if target == "" {
		return errors.New("no active user left to deactivate; restart the dev server")
	}

	// 2. A denied write.
	fmt.Fprintf(out, "\n2. reader-bot: user_lifecycle.deactivate %s (denied: reader-bot only reads)\n", targetLogin)
	deactivate := &bollardv1.ExecuteRequest{Action: "user_lifecycle.deactivate", Params: mustStruct(map[string]any{"userId": target})}
	_, err = gw.Execute(reader, deactivate)
	if status.Code(err) != codes.PermissionDenied {
		return fmt.Errorf("expected PERMISSION_DENIED, got %v", err)
	}
	ei := errorInfo(err)
	fmt.Fprintf(out, "   %s %s: %s (deny codes %s)\n", status.Code(err), ei.GetReason(), status.Convert(err).Message(), ei.GetMetadata()["deny_codes"])

	// 3. A destructive action: confirmation first, then success.
	fmt.Fprintf(out, "\n3. helpdesk-bot: user_lifecycle.deactivate %s (destructive: needs confirmation)\n", targetLogin)
	_, err = gw.Execute(helpdesk, deactivate)
	if status.Code(err) != codes.FailedPrecondition || errorInfo(err).GetReason() != "CONFIRMATION_REQUIRED" {
		return fmt.Errorf("expected CONFIRMATION_REQUIRED, got %v", err)
	}
	token := errorInfo(err).GetMetadata()["confirmation_token"]
	fmt.Fprintf(out, "   %s CONFIRMATION_REQUIRED: token expires %s\n", status.Code(err), errorInfo(err).GetMetadata()["expires_at"])
	deactivate.Confirmation = token
	done, err := gw.Execute(helpdesk, deactivate)
	if err != nil {
		return fmt.Errorf("confirmed deactivate: %w", err)
	}
	fmt.Fprintf(out, "   confirmed: okta status %d, decision %s\n", done.GetOkta().GetHttpStatus(), done.GetDecisionId())

	// 4. The typed API, through the generated stub.
	fmt.Fprintln(out, "\n4. helpdesk-bot: UsersService/GetUser (typed stub)")
	user, err := oktav1.NewUsersServiceClient(conn).GetUser(helpdesk, &oktav1.GetUserRequest{UserId: target})
	if err != nil {
		return fmt.Errorf("GetUser: %w", err)
	}
	fmt.Fprintf(out, "   %s is now %s\n", targetLogin, user.GetResult().GetStructValue().GetFields()["status"].GetStringValue())
	return nil
}

func withKey(ctx context.Context, key string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
}

func mustStruct(m map[string]any) *structpb.Struct {
	s, err := structpb.NewStruct(m)
	if err != nil {
		panic(err)
	}
	return s
}

func errorInfo(err error) *errdetails.ErrorInfo {
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei
		}
	}
	return nil
}
