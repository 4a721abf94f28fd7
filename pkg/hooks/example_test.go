package hooks_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/bollard-dev/bollard/pkg/hooks"
)

func Example() {
	hub, err := hooks.NewHub()
	if err != nil {
		panic(err)
	}
	// The header and secret configured on the event hook in Okta; the
	// secret comes from a Secret file in the sidecar.
	receiver, err := hooks.NewReceiver(hub, hooks.WithAuth("Authorization", []byte("a long random value")))
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(receiver) // an http.Server with timeouts in the sidecar
	defer srv.Close()

	// An agent's stream, for user lifecycle events only.
	sub, err := hub.Subscribe(hooks.WithTypes("user.lifecycle.create", "user.lifecycle.deactivate"))
	if err != nil {
		panic(err)
	}
	defer sub.Close()

	// Okta delivers two events, and the same delivery again as its retry.
	body := `{"eventType":"com.okta.event_hook","eventId":"d-1","data":{"events":[
		{"uuid":"e-1","eventType":"user.lifecycle.create","target":[{"id":"00u1","type":"User"}]},
		{"uuid":"e-2","eventType":"user.session.start"}]}}`
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		req.Header.Set("Authorization", "a long random value")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(resp.Status)
	}

	receiver.Shutdown() // the subscriber drains, then sees the end
	for {
		m, err := sub.Next(context.Background())
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(m.Event.Type, m.Event.UUID, string(m.Event.Raw[:13]))
	}
	// Output:
	// 200 OK
	// 200 OK
	// user.lifecycle.create e-1 {"uuid":"e-1"
	// hooks: closed
}
