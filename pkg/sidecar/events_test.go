package sidecar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/structpb"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/identity"
)

// TestDevModeStreamsEvents is the demo: in dev mode the simulator's event
// hook posts to Bollard's receiver, and an agent watching sees the event of
// another agent's change, until the sidecar stops and the stream ends.
func TestDevModeStreamsEvents(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	ready := make(chan Addrs, 1)
	done := make(chan error, 1)
	go func() {
		done <- Dev(ctx, DevOptions{Listen: "127.0.0.1:0", AdminListen: "127.0.0.1:0", Logger: quiet, Ready: func(a Addrs) { ready <- a }})
	}()
	var a Addrs
	select {
	case a = <-ready:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("dev did not start")
	}
	if a.Hooks == nil {
		t.Fatal("dev mode has no event hook receiver")
	}
	conn, err := grpc.NewClient(a.GRPC.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	gw := bollardv1.NewGatewayServiceClient(conn)
	as := func(agent string) context.Context {
		return metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+identity.DevKeys()[agent])
	}
	stream, err := gw.WatchEvents(as("reader-bot"), &bollardv1.WatchEventsRequest{EventTypes: []string{"user.lifecycle.create"}})
	if err != nil {
		t.Fatal(err)
	}
	// The subscription exists once the server has the stream; a header
	// round trip is not enough, so retry the change until an event comes.
	got := make(chan *bollardv1.WatchEventsResponse, 1)
	go func() {
		if m, err := stream.Recv(); err == nil {
			got <- m
		}
	}()
	deadline := time.After(10 * time.Second)
	for i := 0; ; i++ {
		login := fmt.Sprintf("eve.event%d@example.com", i)
		p, _ := structpb.NewStruct(map[string]any{"body": map[string]any{"profile": map[string]any{
			"firstName": "Eve", "lastName": "Event", "email": login, "login": login}}})
		if _, err := gw.Execute(as("provisioner-bot"), &bollardv1.ExecuteRequest{Action: "users.create", Params: p}); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-got:
			if m.GetEvent().GetEventType() != "user.lifecycle.create" {
				t.Errorf("event = %v", m)
			}
		case <-time.After(200 * time.Millisecond):
			continue // the stream may not be subscribed yet
		case <-deadline:
			t.Fatal("no event reached the watching agent")
		}
		break
	}
	// Shutting down ends the stream cleanly.
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Dev: %v", err)
	}
	for {
		if _, err := stream.Recv(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Logf("stream ended with %v", err)
			}
			break
		}
	}
}
