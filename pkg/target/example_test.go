package target_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/target"
)

// The facts the policy sees before Carol, named by login, is suspended.
func ExampleResolver_Facts() {
	sim := oktasim.New()
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	c, err := forward.New(srv.URL, forward.WithAPIToken(sim.APIToken()))
	if err != nil {
		panic(err)
	}
	r := target.New(c)

	call, err := catalog.Bind("user_lifecycle.suspend", map[string]any{"userId": oktasim.SeedLoginCarol})
	if err != nil {
		panic(err)
	}
	f, err := r.Facts(context.Background(), call, target.Lookup{DecisionID: "dec-1"})
	if err != nil {
		panic(err)
	}
	u := f["user"].(map[string]any)
	fmt.Println(u["id"], u["resolved"], len(u["groups"].([]any)), u["admin_roles"])

	// A read changes nothing: no facts, and no lookup.
	get, _ := catalog.Bind("users.get", map[string]any{"userId": oktasim.SeedUserCarol})
	f, _ = r.Facts(context.Background(), get, target.Lookup{DecisionID: "dec-2"})
	fmt.Println(f == nil, target.Needs(get), target.Needs(call))
	// Output:
	// 00uCARactive000000g7 true 3 [HELP_DESK_ADMIN]
	// true false true
}
