package approvalnotify_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/approval"
	"github.com/bollard-dev/bollard/pkg/approvalnotify"
)

func ids(bodies [][]byte) map[string]int {
	out := map[string]int{}
	for _, b := range bodies {
		var p approvalnotify.Payload
		_ = json.Unmarshal(b, &p)
		out[p.ApprovalID]++
	}
	return out
}

// A pending approval is announced once: not again when it changes (a
// vote), nor when others do. One already pending at the start is
// announced too.
func TestEachPendingApprovalIsPostedOnce(t *testing.T) {
	h := newHook(t, nil)
	s, _ := newStore()
	before := create(t, s, request("helpdesk-bot", 2))
	n := start(t, s, h.URL)
	first := create(t, s, request("helpdesk-bot", 2))
	eventually(t, "two notifications", func() bool { return len(h.received()) == 2 })
	if _, err := s.Vote(first.ID, ann, true, ""); err != nil { // still pending: one more is needed
		t.Fatal(err)
	}
	// The watcher reads the store in order: once the next approval is
	// announced, the vote has been seen.
	next := create(t, s, request("helpdesk-bot", 1))
	eventually(t, "the next notification", func() bool { return len(h.received()) == 3 })
	if _, err := s.Vote(first.ID, bob, true, ""); err != nil {
		t.Fatal(err)
	}
	last := create(t, s, request("helpdesk-bot", 1))
	eventually(t, "the last notification", func() bool { return len(h.received()) == 4 })
	got := ids(h.received())
	for _, id := range []string{before.ID, first.ID, next.ID, last.ID} {
		if got[id] != 1 {
			t.Errorf("approval %s posted %d times, want once (%v)", id, got[id], got)
		}
	}
	if st := n.Stats(); st != (approvalnotify.Stats{Sent: 4}) {
		t.Errorf("stats %+v", st)
	}
}

// A network error, 503 and 429 are retried (429's Retry-After honoured up
// to the back-off's cap); then the webhook takes it.
func TestRetriesUntilTaken(t *testing.T) {
	h := newHook(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		switch n {
		case 1: // the connection drops: a network error
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 3:
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.WriteHeader(http.StatusOK)
		}
	})
	s, _ := newStore()
	n := start(t, s, h.URL)
	create(t, s, request("helpdesk-bot", 1))
	eventually(t, "delivery", func() bool { return n.Stats().Sent == 1 })
	if got := len(h.received()); got != 4 {
		t.Errorf("%d POSTs, want 4", got)
	}
}

// A 4xx other than 429 is final, and so is a redirect, which is never
// followed (to another host or any).
func TestFinalAnswersAreNotRetried(t *testing.T) {
	elsewhere := newHook(t, nil)
	for name, answer := range map[string]func(int, http.ResponseWriter, *http.Request){
		"400": statuses(http.StatusBadRequest),
		"404": statuses(http.StatusNotFound),
		"redirect": func(_ int, w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+"/stolen", http.StatusTemporaryRedirect)
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHook(t, answer)
			s, _ := newStore()
			n := start(t, s, h.URL)
			create(t, s, request("helpdesk-bot", 1))
			eventually(t, "the failure", func() bool { return n.Stats().Failed == 1 })
			if got := len(h.received()); got != 1 {
				t.Errorf("%d POSTs, want 1", got)
			}
			if got := len(elsewhere.received()); got != 0 {
				t.Errorf("the redirect was followed: %d POSTs elsewhere", got)
			}
		})
	}
}

// Every attempt failing, it gives up after MaxAttempts.
func TestGivesUpAfterMaxAttempts(t *testing.T) {
	h := newHook(t, statuses(http.StatusBadGateway))
	s, _ := newStore()
	n := start(t, s, h.URL, approvalnotify.WithMaxAttempts(3))
	create(t, s, request("helpdesk-bot", 1))
	eventually(t, "giving up", func() bool { return n.Stats().Failed == 1 })
	if got := len(h.received()); got != 3 {
		t.Errorf("%d POSTs, want 3", got)
	}
}

// An approval decided or expired while its notification is retried is not
// sent again.
func TestStopsWhenNoLongerPending(t *testing.T) {
	for name, settle := range map[string]func(t *testing.T, s *approval.Store, c *clock, id string){
		"denied": func(t *testing.T, s *approval.Store, _ *clock, id string) {
			if _, err := s.Vote(id, ann, false, "not today"); err != nil {
				t.Fatal(err)
			}
		},
		"expired": func(_ *testing.T, _ *approval.Store, c *clock, _ string) { c.add(16 * time.Minute) },
	} {
		t.Run(name, func(t *testing.T) {
			got, release := make(chan struct{}, 1), make(chan struct{})
			h := newHook(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				select {
				case got <- struct{}{}:
				default:
				}
				<-release
				w.WriteHeader(http.StatusServiceUnavailable)
			})
			var once sync.Once
			free := func() { once.Do(func() { close(release) }) }
			t.Cleanup(free) // before the server's Close, which waits for handlers
			s, c := newStore()
			n := start(t, s, h.URL)
			a := create(t, s, request("helpdesk-bot", 1))
			<-got
			settle(t, s, c, a.ID)
			free()
			eventually(t, "the notifier to let go", func() bool { return n.Stats().Abandoned == 1 })
			if got := len(h.received()); got != 1 {
				t.Errorf("%d POSTs, want 1", got)
			}
		})
	}
}

// A webhook that does not answer holds one worker; the store goes on
// (creating, voting), the watcher goes on queueing, and past the queue's
// bound notifications are dropped and counted. Close then cancels the POST
// in flight and returns.
func TestSlowWebhookDoesNotBlockTheStore(t *testing.T) {
	got, release := make(chan struct{}, 1), make(chan struct{})
	h := newHook(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		select {
		case got <- struct{}{}:
		default:
		}
		<-release
	})
	defer close(release) // before the server's Close, which waits for handlers
	var l logs
	s, _ := newStore()
	n := start(t, s, h.URL, approvalnotify.WithWorkers(1), approvalnotify.WithQueueSize(2),
		approvalnotify.WithTimeout(time.Minute), approvalnotify.WithLogger(l.logger()))
	create(t, s, request("helpdesk-bot", 1))
	<-got
	began := time.Now()
	for range 20 {
		a := create(t, s, request("helpdesk-bot", 2))
		if _, err := s.Vote(a.ID, ann, true, ""); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("20 creations and votes took %v", d)
	}
	eventually(t, "the drops", func() bool { return n.Stats().Dropped == 18 })
	if !strings.Contains(l.String(), "dropped") {
		t.Errorf("the drops are not logged:\n%s", l.String())
	}
	closed := make(chan struct{})
	go func() { n.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waits for the webhook")
	}
}

// Close stops the goroutines: nothing is posted after it returns, and it
// may be called again. Ending the context stops the notifier too.
func TestCloseAndContextStop(t *testing.T) {
	h := newHook(t, nil)
	s, _ := newStore()
	n := start(t, s, h.URL)
	create(t, s, request("helpdesk-bot", 1))
	eventually(t, "the notification", func() bool { return len(h.received()) == 1 })
	n.Close()
	n.Close()
	create(t, s, request("helpdesk-bot", 1))
	time.Sleep(50 * time.Millisecond)
	if got := len(h.received()); got != 1 {
		t.Errorf("%d POSTs after Close, want none", got-1)
	}

	ctx, cancel := context.WithCancel(t.Context())
	m, err := approvalnotify.Start(ctx, s, h.URL)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	closed := make(chan struct{})
	go func() { m.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the notifier did not stop with its context")
	}
}

// Neither the logs nor Start's errors carry the URL's path or query (a
// Slack webhook's secret): only its scheme and host.
func TestTheURLSecretIsNeverLogged(t *testing.T) {
	const secretPath, secretQuery = "/services/T000/B000/SECRETPATHXYZ", "token=SECRETQUERYXYZ"
	h := newHook(t, statuses(http.StatusServiceUnavailable, http.StatusBadRequest))
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String()
	dead.Close() // nothing listens there: a network error
	var l logs
	for _, base := range []string{h.URL, deadURL} {
		// A store each: notifiers sharing a store announce an approval
		// once between them (TestOneNotificationPerStore).
		s, _ := newStore()
		start(t, s, base+secretPath+"?"+secretQuery, approvalnotify.WithLogger(l.logger()), approvalnotify.WithMaxAttempts(2))
		create(t, s, request("helpdesk-bot", 1))
	}
	eventually(t, "both notifiers to give up", func() bool {
		return strings.Count(l.String(), "not retried")+strings.Count(l.String(), "giving up") == 2
	})
	logged := l.String()
	for _, secret := range []string{"SECRETPATHXYZ", "SECRETQUERYXYZ", "/services"} {
		if strings.Contains(logged, secret) {
			t.Errorf("the log carries %q:\n%s", secret, logged)
		}
	}
	for _, where := range []string{`"webhook":"` + h.URL + `"`, `"webhook":"` + deadURL + `"`} {
		if !strings.Contains(logged, where) {
			t.Errorf("the log does not name %s:\n%s", where, logged)
		}
	}

	s, _ := newStore()
	for _, bad := range []string{"http://hooks.example.com" + secretPath, "ftp://hooks.example.com" + secretPath, "https://user:pw@hooks.example.com" + secretPath, "://" + secretPath} {
		_, err := approvalnotify.Start(t.Context(), s, bad)
		if err == nil {
			t.Errorf("Start accepted a bad URL")
		} else if strings.Contains(err.Error(), "SECRETPATHXYZ") || strings.Contains(err.Error(), "pw@") {
			t.Errorf("the error repeats the URL: %v", err)
		}
	}
}

// Start reports every bad setting at once.
func TestStartRefusesBadSettings(t *testing.T) {
	s, _ := newStore()
	_, err := approvalnotify.Start(t.Context(), s, "https://hooks.example.com/x",
		approvalnotify.WithFormat("xml"), approvalnotify.WithConsoleURL("http://console.example.com"),
		approvalnotify.WithMaxAttempts(0), approvalnotify.WithTimeout(0), approvalnotify.WithQueueSize(-1), approvalnotify.WithWorkers(0))
	if err == nil {
		t.Fatal("bad settings accepted")
	}
	for _, want := range []string{"format", "console URL", "max attempts", "timeout", "queue size", "workers"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s: %v", want, err)
		}
	}
}

// Notifiers watching one store, as the replicas of a fleet watch the
// store they share, announce each approval once between them.
func TestOneNotificationPerStore(t *testing.T) {
	h := newHook(t, nil)
	s, _ := newStore()
	for range 3 {
		start(t, s, h.URL)
	}
	create(t, s, request("helpdesk-bot", 1))
	create(t, s, request("helpdesk-bot", 1))
	eventually(t, "the notifications", func() bool { return len(h.received()) >= 2 })
	time.Sleep(100 * time.Millisecond)
	if got := len(h.received()); got != 2 {
		t.Errorf("%d POSTs for 2 approvals and 3 notifiers, want 2", got)
	}
}

// A rotated webhook URL (a Secret replaced after the old URL was revoked)
// is used from the next POST on, without a restart: WithURLReload is read
// before each one. A reload that fails, or gives a URL the rules refuse,
// keeps the URL in use, and the log never repeats either URL.
func TestWebhookURLRotates(t *testing.T) {
	s, _ := newStore()
	oldHook, newHook := newHook(t, nil), newHook(t, nil)
	var mu sync.Mutex
	current, fail := oldHook.URL+"/old-SECRET", error(nil)
	set := func(u string, err error) { mu.Lock(); current, fail = u, err; mu.Unlock() }
	reload := func() (string, error) { mu.Lock(); defer mu.Unlock(); return current, fail }
	var out logs
	start(t, s, current, approvalnotify.WithURLReload(reload), approvalnotify.WithLogger(out.logger()))

	create(t, s, request("helpdesk-bot", 1))
	eventually(t, "the first notification at the old URL", func() bool { return len(oldHook.received()) == 1 })

	set("", errors.New("read approvals.notify.webhook_url_file: permission denied"))
	create(t, s, request("helpdesk-bot", 1))
	eventually(t, "a notification at the old URL while the reload fails", func() bool { return len(oldHook.received()) == 2 })

	set("http://example.com/NOT-LOOPBACK-SECRET", nil) // plain http to a name: refused
	create(t, s, request("helpdesk-bot", 1))
	eventually(t, "a notification at the old URL after a refused one", func() bool { return len(oldHook.received()) == 3 })

	set(newHook.URL+"/new-SECRET", nil)
	create(t, s, request("helpdesk-bot", 1))
	eventually(t, "the notification at the rotated URL", func() bool { return len(newHook.received()) == 1 })
	if n := len(oldHook.received()); n != 3 {
		t.Errorf("the old URL got %d notifications, want 3", n)
	}
	if l := out.String(); strings.Contains(l, "SECRET") {
		t.Errorf("a webhook URL reached the log:\n%s", l)
	}
}
