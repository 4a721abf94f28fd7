package oktasim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// changeEachMappedType makes one change per mapped event type, in the order
// of changeOrder, through the API (and StartSession, there being no API for
// signing in).
func changeEachMappedType(t *testing.T, e *env) {
	t.Helper()
	e.do("POST", "/api/v1/users?activate=false", newUserBody("nina.new@example.com")).want(t, 200)
	e.do("POST", "/api/v1/users/"+SeedUserAlice, map[string]any{"profile": map[string]any{"title": "Principal"}}).want(t, 200)
	e.do("PUT", "/api/v1/groups/"+SeedGroupSupport+"/users/"+SeedUserAlice, nil).want(t, 204)
	e.do("DELETE", "/api/v1/groups/"+SeedGroupSupport+"/users/"+SeedUserAlice, nil).want(t, 204)
	e.do("POST", "/api/v1/apps/"+SeedAppLegacyWiki+"/lifecycle/activate", nil).want(t, 200)
	e.do("POST", "/api/v1/apps/"+SeedAppSalesforce+"/users", map[string]any{"id": SeedUserCarol, "scope": "USER"}).want(t, 200)
	e.do("POST", "/api/v1/users/"+SeedUserCarol+"/lifecycle/deactivate", nil).want(t, 200)
	if _, err := e.sim.StartSession(SeedUserAlice); err != nil {
		t.Fatalf("StartSession: %v", err)
	}
}

var changeOrder = []string{
	"user.lifecycle.create", "user.account.update_profile", "group.user_membership.add",
	"group.user_membership.remove", "application.lifecycle.activate", "application.user_membership.add",
	"user.lifecycle.deactivate", "user.session.start",
}

func TestEventHookDeliversEachMappedType(t *testing.T) {
	if !slices.Equal(slices.Sorted(slices.Values(changeOrder)), slices.Sorted(slices.Values(mappedEventTypes))) {
		t.Fatal("changeOrder is not the mapped event types")
	}
	e, rc, id := hookEnv(t, nil, mappedEventTypes)
	before := len(e.sim.Events())
	changeEachMappedType(t, e)
	flush(t, e.sim)

	logged := eventsOf(e.sim, before, mappedEventTypes...)
	posts := rc.Posts()
	if len(posts) != len(mappedEventTypes) || len(logged) != len(mappedEventTypes) {
		t.Fatalf("%d POSTs and %d logged events, want %d of each", len(posts), len(logged), len(mappedEventTypes))
	}
	for i, p := range posts {
		want := changeOrder[i]
		if p.eventType() != want || logged[i].EventType != want || p.uuid() != logged[i].UUID {
			t.Errorf("POST %d carries %s %s, want %s %s", i, p.eventType(), p.uuid(), want, logged[i].UUID)
		}
		if got := p.header.Get("Authorization"); got != hookSecret {
			t.Errorf("POST %d Authorization = %q", i, got)
		}
		if p.header.Get("X-Extra") != "yes" || p.header.Get("Content-Type") != "application/json" {
			t.Errorf("POST %d headers = %v", i, p.header)
		}
		env := p.env
		if env.EventType != "com.okta.event_hook" || env.EventTypeVersion != "1.0" || env.CloudEventsVersion != "0.1" ||
			env.ContentType != "application/json" || !strings.HasSuffix(env.Source, "/api/v1/eventHooks/"+id) ||
			len(env.EventID) != 36 || env.EventTime != ts(testNow) || len(env.Data.Events) != 1 {
			t.Errorf("POST %d envelope = %+v", i, env)
		}
		ev := env.Data.Events[0]
		for _, field := range []string{"published", "version", "severity", "displayMessage", "actor", "client", "outcome", "target", "transaction", "debugContext"} {
			if _, ok := ev[field]; !ok {
				t.Errorf("POST %d: event lacks %s", i, field)
			}
		}
	}
	eventIDs := map[string]bool{}
	for _, p := range posts {
		if eventIDs[p.env.EventID] {
			t.Errorf("eventId %s used twice", p.env.EventID)
		}
		eventIDs[p.env.EventID] = true
	}
	session := posts[len(posts)-1].env.Data.Events[0]
	if str(session, "actor", "id") != SeedUserAlice || str(session, "authenticationContext", "externalSessionId") == "unknown" {
		t.Errorf("user.session.start = %v", session)
	}
	st, _ := e.sim.EventHookStats(id)
	if want := (EventHookStats{Queued: 8, Delivered: 8}); st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
}

func TestEventHookDeliversOnlySubscribedTypes(t *testing.T) {
	e, rc, _ := hookEnv(t, nil, []string{"group.user_membership.remove", "user.session.start"})
	changeEachMappedType(t, e)
	e.do("POST", "/api/v1/users/"+SeedUserCarol+"/lifecycle/activate", nil).want(t, 200) // user.lifecycle.activate
	flush(t, e.sim)
	var got []string
	for _, p := range rc.Posts() {
		got = append(got, p.eventType())
	}
	if want := []string{"group.user_membership.remove", "user.session.start"}; !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
}

func TestEventHookKeepsOrder(t *testing.T) {
	e, rc, _ := hookEnv(t, func(rc *receiver) {
		rc.respond = func(w http.ResponseWriter, n int) {
			time.Sleep(time.Millisecond) // a receiver slower than the changes
			w.WriteHeader(http.StatusOK)
		}
	}, []string{"group.user_membership.add", "group.user_membership.remove"})
	before := len(e.sim.Events())
	for range 15 {
		e.do("PUT", "/api/v1/groups/"+SeedGroupSupport+"/users/"+SeedUserAlice, nil).want(t, 204)
		e.do("DELETE", "/api/v1/groups/"+SeedGroupSupport+"/users/"+SeedUserAlice, nil).want(t, 204)
	}
	flush(t, e.sim)
	logged := eventsOf(e.sim, before, "group.user_membership.add", "group.user_membership.remove")
	posts := rc.Posts()
	if len(posts) != len(logged) || len(posts) != 30 {
		t.Fatalf("%d POSTs for %d events", len(posts), len(logged))
	}
	for i, p := range posts {
		if p.uuid() != logged[i].UUID {
			t.Fatalf("POST %d is event %s, want %s (System Log order)", i, p.uuid(), logged[i].UUID)
		}
	}
}

func TestEventHookDuplicates(t *testing.T) {
	e, rc, id := hookEnv(t, nil, []string{"group.user_membership.add", "group.user_membership.remove"}, WithEventHookDuplicates(2))
	e.do("PUT", "/api/v1/groups/"+SeedGroupSupport+"/users/"+SeedUserAlice, nil).want(t, 204)
	e.do("DELETE", "/api/v1/groups/"+SeedGroupSupport+"/users/"+SeedUserAlice, nil).want(t, 204)
	flush(t, e.sim)
	posts := rc.Posts()
	if len(posts) != 3 {
		t.Fatalf("%d POSTs, want 3 (the second event twice)", len(posts))
	}
	if posts[0].uuid() == posts[1].uuid() || posts[1].uuid() != posts[2].uuid() || posts[1].env.EventID != posts[2].env.EventID {
		t.Errorf("uuids %s %s %s: want the second sent twice, same body", posts[0].uuid(), posts[1].uuid(), posts[2].uuid())
	}
	st, _ := e.sim.EventHookStats(id)
	if want := (EventHookStats{Queued: 2, Delivered: 3, Duplicates: 1}); st != want {
		t.Errorf("stats = %+v, want %+v", st, want)
	}
}

func TestEventHookRetry(t *testing.T) {
	const slow = 600 * time.Millisecond
	tests := []struct {
		name    string
		respond func(w http.ResponseWriter, n int)
		posts   int
		stats   EventHookStats
	}{
		{"500 then 200 is retried once", func(w http.ResponseWriter, n int) {
			w.WriteHeader(map[bool]int{true: 500, false: 200}[n == 1])
		}, 2, EventHookStats{Queued: 1, Delivered: 1, Retries: 1}},
		{"500 twice is not tried a third time", func(w http.ResponseWriter, n int) {
			w.WriteHeader(http.StatusInternalServerError)
		}, 2, EventHookStats{Queued: 1, Failed: 1, Retries: 1}},
		{"a timeout is retried", func(w http.ResponseWriter, n int) {
			if n == 1 {
				time.Sleep(slow)
			}
		}, 2, EventHookStats{Queued: 1, Delivered: 1, Retries: 1}},
		{"4xx is not retried", func(w http.ResponseWriter, n int) {
			w.WriteHeader(http.StatusUnauthorized)
		}, 1, EventHookStats{Queued: 1, Failed: 1}},
	}
	// In a synctest bubble: the slow receiver and the attempt timeout
	// take no real time.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sim, rc, id := memHookEnv(t, func(rc *receiver) { rc.respond = tt.respond },
					[]string{"user.session.start"}, WithEventHookTimeout(slow/3))
				if _, err := sim.StartSession(SeedUserBob); err != nil {
					t.Fatal(err)
				}
				flush(t, sim)
				posts := rc.Posts()
				if len(posts) != tt.posts {
					t.Fatalf("%d POSTs, want %d", len(posts), tt.posts)
				}
				for _, p := range posts {
					if p.uuid() != posts[0].uuid() {
						t.Errorf("the retry carries %s, the first try %s", p.uuid(), posts[0].uuid())
					}
				}
				if st, _ := sim.EventHookStats(id); st != tt.stats {
					t.Errorf("stats = %+v, want %+v", st, tt.stats)
				}
			})
		})
	}
}

// TestEventHookDelay runs in a synctest bubble: the delay passes on the
// bubble's clock, and the delivery is seen exactly when it is due.
func TestEventHookDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const delay = 300 * time.Millisecond
		sim, rc, _ := memHookEnv(t, nil, []string{"user.session.start"}, WithEventHookDelay(delay))
		start := time.Now()
		if _, err := sim.StartSession(SeedUserBob); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay - time.Millisecond)
		if n := len(rc.Posts()); n != 0 {
			t.Fatalf("%d POSTs before the delay", n)
		}
		flush(t, sim)
		posts := rc.Posts()
		if len(posts) != 1 || posts[0].at.Sub(start) < delay {
			t.Fatalf("POSTs %d, the first after %v; want one after %v", len(posts), posts[0].at.Sub(start), delay)
		}
	})
}

// blockingReceiver holds every POST until release is called. Tests defer
// release: cleanups close the simulator, which waits for the delivery in
// flight, before the receiver.
func blockingReceiver() (configure func(*receiver), release func()) {
	ch := make(chan struct{})
	var once sync.Once
	return func(rc *receiver) {
		rc.respond = func(w http.ResponseWriter, n int) { <-ch }
	}, func() { once.Do(func() { close(ch) }) }
}

func TestEventHookNeverBlocksTheAPI(t *testing.T) {
	block, release := blockingReceiver()
	e, rc, id := hookEnv(t, block, []string{"group.user_membership.add", "group.user_membership.remove"},
		WithEventHookQueue(2), WithEventHookTimeout(time.Minute))
	defer release()
	start := time.Now()
	e.do("PUT", "/api/v1/groups/"+SeedGroupSupport+"/users/"+SeedUserAlice, nil).want(t, 204)
	rc.waitPosts(t, 1) // the receiver now holds the first delivery
	for i := range 9 {
		method := map[bool]string{true: "DELETE", false: "PUT"}[i%2 == 0]
		e.do(method, "/api/v1/groups/"+SeedGroupSupport+"/users/"+SeedUserAlice, nil).want(t, 204)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("ten API calls took %v behind a stalled receiver", took)
	}
	st, _ := e.sim.EventHookStats(id)
	// One in flight, two queued, the rest dropped.
	if st.Queued != 3 || st.Dropped != 7 {
		t.Errorf("stats = %+v, want 3 queued and 7 dropped", st)
	}
}

func TestFlushEventHooksHonoursContext(t *testing.T) {
	block, release := blockingReceiver()
	e, rc, _ := hookEnv(t, block, []string{"user.session.start"}, WithEventHookTimeout(time.Minute))
	defer release()
	if _, err := e.sim.StartSession(SeedUserBob); err != nil {
		t.Fatal(err)
	}
	rc.waitPosts(t, 1)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := e.sim.FlushEventHooks(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("FlushEventHooks = %v, want the deadline", err)
	}
}

func TestCloseWaitsForDeliveryInFlight(t *testing.T) {
	block, release := blockingReceiver()
	e, rc, id := hookEnv(t, block, []string{"group.user_membership.add", "group.user_membership.remove"},
		WithEventHookTimeout(time.Minute))
	defer release()
	e.do("PUT", "/api/v1/groups/"+SeedGroupSupport+"/users/"+SeedUserAlice, nil).want(t, 204)
	e.do("DELETE", "/api/v1/groups/"+SeedGroupSupport+"/users/"+SeedUserAlice, nil).want(t, 204)
	rc.waitPosts(t, 1)

	closed := make(chan struct{})
	go func() {
		_ = e.sim.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned while a delivery was in flight")
	case <-time.After(100 * time.Millisecond):
	}
	release()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return once the delivery finished")
	}
	if n := len(rc.Posts()); n != 1 {
		t.Errorf("%d POSTs; the queued event must not be sent after Close", n)
	}
	if st, _ := e.sim.EventHookStats(id); st != (EventHookStats{Queued: 2, Delivered: 1, Dropped: 1}) {
		t.Errorf("stats = %+v", st)
	}
	if err := e.sim.FlushEventHooks(t.Context()); err != nil {
		t.Errorf("FlushEventHooks after Close = %v", err)
	}

	// The API still answers; nothing more is delivered or registered.
	e.do("PUT", "/api/v1/groups/"+SeedGroupSupport+"/users/"+SeedUserAlice, nil).want(t, 204)
	if _, err := e.sim.RegisterEventHook(t.Context(), EventHook{URL: rc.srv.URL, EventTypes: []string{"user.session.start"}}); !errors.Is(err, ErrClosed) {
		t.Errorf("RegisterEventHook after Close = %v, want ErrClosed", err)
	}
	if err := e.sim.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if n := len(rc.Posts()); n != 1 {
		t.Errorf("%d POSTs after Close", n)
	}
}

// TestEventHooksConcurrent drives changes from many goroutines to two
// hooks while deliveries run; under -race it checks the queues, the stats
// and the pending count share no unguarded state.
func TestEventHooksConcurrent(t *testing.T) {
	e, rc, id := hookEnv(t, nil, []string{"user.lifecycle.create", "user.session.start"}, WithEventHookDuplicates(5))
	rc2 := newReceiver(t, nil)
	id2, err := e.sim.RegisterEventHook(t.Context(), EventHook{URL: rc2.srv.URL, EventTypes: []string{"user.lifecycle.create"}})
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 6, 5
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				login := fmt.Sprintf("c%d-%d@example.com", w, i)
				e.do("POST", "/api/v1/users?activate=false", newUserBody(login))
				_, _ = e.sim.StartSession(SeedUserBob)
				_, _ = e.sim.EventHookStats(id)
			}
		})
	}
	wg.Go(func() { _ = e.sim.FlushEventHooks(t.Context()) })
	wg.Wait()
	flush(t, e.sim)
	st, _ := e.sim.EventHookStats(id)
	if st.Queued != 2*workers*each || st.Delivered != st.Queued+st.Duplicates || len(rc.Posts()) != st.Delivered {
		t.Errorf("hook 1: stats %+v, %d POSTs", st, len(rc.Posts()))
	}
	if st2, _ := e.sim.EventHookStats(id2); st2.Queued != workers*each || st2.Delivered != st2.Queued+st2.Duplicates ||
		len(rc2.Posts()) != st2.Delivered {
		t.Errorf("hook 2: stats %+v, %d POSTs", st2, len(rc2.Posts()))
	}
}
