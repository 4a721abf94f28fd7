package oktasim_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// A test serves the simulator with httptest and talks to it as to Okta.
func Example() {
	sim := oktasim.New(oktasim.WithAPIToken("test-token"))
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/users/"+oktasim.SeedUserAlice+"/lifecycle/suspend", nil)
	req.Header.Set("Authorization", "SSWS test-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	status, _ := sim.UserStatus(oktasim.SeedUserAlice)
	fmt.Println(resp.StatusCode, string(body), status)
	// Output: 200 {} SUSPENDED
}

// Faults make Okta misbehave for the requests that match.
func ExampleSim_InjectFault() {
	sim := oktasim.New()
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	sim.InjectFault(oktasim.Fault{Method: "GET", PathPrefix: "/api/v1/users", Status: http.StatusServiceUnavailable, Count: 1})

	for range 2 {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/users?limit=1", nil)
		req.Header.Set("Authorization", "SSWS "+sim.APIToken())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	// Output:
	// 503
	// 200
}
