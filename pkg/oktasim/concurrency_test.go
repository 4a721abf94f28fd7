package oktasim

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
)

// TestConcurrentRequests drives the simulator from many goroutines; run
// with -race it checks that handlers and the encoder share no unguarded
// state.
func TestConcurrentRequests(t *testing.T) {
	e := newEnv(t)
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan string, workers*10)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				login := fmt.Sprintf("w%d-%d@example.com", w, i)
				if r := e.do("POST", "/api/v1/users", withPassword(newUserBody(login))); r.status != 200 {
					errs <- fmt.Sprintf("create %s: %d %s", login, r.status, r.body)
				}
				if r := e.do("POST", "/api/v1/users/"+url.PathEscape(login)+"/lifecycle/suspend", nil); r.status != 200 {
					errs <- fmt.Sprintf("suspend %s: %d %s", login, r.status, r.body)
				}
				e.do("PUT", "/api/v1/groups/"+SeedGroupSupport+"/users/"+SeedUserAlice, nil)
				e.do("DELETE", "/api/v1/groups/"+SeedGroupSupport+"/users/"+SeedUserAlice, nil)
				e.do("GET", "/api/v1/users?limit=3", nil)
				e.do("GET", "/api/v1/logs?limit=5&sortOrder=DESCENDING", nil)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	suspended := e.do("GET", "/api/v1/users?limit=200&search="+url.QueryEscape(`status eq "SUSPENDED"`), nil).want(t, 200).array(t)
	if want := workers*5 + 1; len(suspended) != want { // plus Frank from the seed
		t.Errorf("%d suspended users, want %d", len(suspended), want)
	}
	if got := len(e.sim.Requests()); got != workers*5*6+1 {
		t.Errorf("%d requests recorded, want %d", got, workers*5*6+1)
	}
}
