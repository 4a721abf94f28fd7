package impact

import (
	"errors"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 30, 15, 0, 30, 0, time.UTC)} }

func call(t *testing.T, c *Counter, agent string, sent bool) Counts {
	t.Helper()
	p, err := c.Begin(agent)
	if err != nil {
		t.Fatal(err)
	}
	got := p.Counts()
	p.Done(sent)
	return got
}

func TestCountsSlideOut(t *testing.T) {
	clk := newClock()
	c := New(WithClock(clk.now))
	for range 3 {
		call(t, c, "a", true)
	}
	if got := c.Counts("a"); got != (Counts{Hour: 3, Day: 3}) {
		t.Fatalf("counts = %+v, want 3/3", got)
	}
	if got := c.Counts("b"); got != (Counts{}) {
		t.Errorf("another agent's counts = %+v", got)
	}
	// Counts never undercount: just inside an hour the calls are still there.
	clk.add(59*time.Minute + 29*time.Second)
	if got := c.Counts("a"); got.Hour != 3 {
		t.Errorf("after 59m59s hour = %d, want 3", got.Hour)
	}
	clk.add(2 * time.Minute)
	if got := c.Counts("a"); got != (Counts{Hour: 0, Day: 3}) {
		t.Errorf("after 61m30s counts = %+v, want 0/3", got)
	}
	clk.add(23 * time.Hour)
	if got := c.Counts("a"); got.Day != 3 {
		t.Errorf("after 24h01m day = %d, want 3 (the window rounds outwards)", got.Day)
	}
	clk.add(2 * time.Hour)
	if got := c.Counts("a"); got != (Counts{}) {
		t.Errorf("after 26h counts = %+v, want none", got)
	}
	// The ring reuses a stale bucket from scratch.
	call(t, c, "a", true)
	if got := c.Counts("a"); got != (Counts{Hour: 1, Day: 1}) {
		t.Errorf("reused bucket counts = %+v, want 1/1", got)
	}
}

func TestDoneFalseDoesNotCount(t *testing.T) {
	c := New()
	call(t, c, "a", false)
	if got := call(t, c, "a", true); got != (Counts{}) {
		t.Fatalf("counts before second call = %+v, want none", got)
	}
	p, err := c.Begin("a")
	if err != nil {
		t.Fatal(err)
	}
	p.Done(true)
	p.Done(true) // no double count, no double unlock
	if got := c.Counts("a"); got.Hour != 2 {
		t.Errorf("hour = %d, want 2", got.Hour)
	}
}

// Concurrent calls of one agent are decided one at a time: with a limit of
// 5, exactly 5 of 50 racing calls may go.
func TestBeginSerialisesAnAgent(t *testing.T) {
	c := New()
	const limit = 5
	var wg sync.WaitGroup
	var mu sync.Mutex
	sent := 0
	for range 50 {
		wg.Go(func() {
			p, err := c.Begin("a")
			if err != nil {
				t.Error(err)
				return
			}
			ok := p.Counts().Hour < limit
			if ok {
				mu.Lock()
				sent++
				mu.Unlock()
			}
			p.Done(ok)
		})
	}
	wg.Wait()
	if sent != limit || c.Counts("a").Hour != limit {
		t.Fatalf("sent %d, counted %d, want %d", sent, c.Counts("a").Hour, limit)
	}
}

func TestMaxAgents(t *testing.T) {
	clk := newClock()
	c := New(WithClock(clk.now), WithMaxAgents(2))
	call(t, c, "a", true)
	call(t, c, "b", true)
	if _, err := c.Begin("c"); !errors.Is(err, ErrTooManyAgents) {
		t.Fatalf("third agent: err = %v, want ErrTooManyAgents", err)
	}
	// Known agents go on.
	call(t, c, "a", true)
	// A day later the old agents make room.
	clk.add(26 * time.Hour)
	if got := call(t, c, "c", true); got != (Counts{}) {
		t.Errorf("new agent counts = %+v", got)
	}
}

func BenchmarkBeginDone(b *testing.B) {
	c := New()
	b.ReportAllocs()
	for b.Loop() {
		p, _ := c.Begin("agent")
		p.Done(true)
	}
}
