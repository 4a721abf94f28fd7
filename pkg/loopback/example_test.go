package loopback_test

import (
	"fmt"
	"net/url"

	"github.com/bollard-dev/bollard/pkg/loopback"
)

func ExampleCheckURL() {
	for _, raw := range []string{"http://127.0.0.1:8080", "http://127.attacker.example", "http://localhost:8080"} {
		u, _ := url.Parse(raw)
		fmt.Println(raw, loopback.CheckURL(u))
	}
	// Output:
	// http://127.0.0.1:8080 <nil>
	// http://127.attacker.example must use https (plain http only to a literal loopback IP, such as 127.0.0.1 or [::1])
	// http://localhost:8080 must use https (plain http only to a literal loopback IP, such as 127.0.0.1 or [::1])
}
