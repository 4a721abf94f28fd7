package budget

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestBudget(t *testing.T) {
	c := &clock{t: time.Unix(1_790_000_000, 0)}
	l := New(60, map[string]int{"batch-bot": 6, "trusted-bot": 0}, WithClock(c.now))
	for i := range 60 {
		if ok, _ := l.Allow("reader-bot"); !ok {
			t.Fatalf("call %d refused within the budget", i)
		}
	}
	ok, wait := l.Allow("reader-bot")
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("61st call: ok=%v wait=%v, want refused with a wait up to 1s", ok, wait)
	}
	// Other agents have their own budgets.
	if ok, _ := l.Allow("helpdesk-bot"); !ok {
		t.Fatal("one agent's spending refused another")
	}
	c.advance(wait)
	if ok, _ := l.Allow("reader-bot"); !ok {
		t.Fatal("refused after the advertised wait")
	}
	for range 6 {
		l.Allow("batch-bot")
	}
	if ok, wait := l.Allow("batch-bot"); ok || wait < 9*time.Second {
		t.Errorf("override: ok=%v wait=%v", ok, wait)
	}
	for range 1000 {
		if ok, _ := l.Allow("trusted-bot"); !ok {
			t.Fatal("an unlimited agent was refused")
		}
	}
}

func TestBudgetOffByDefault(t *testing.T) {
	l := New(0, nil)
	for range 10_000 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatal("refused with no budget set")
		}
	}
}

func TestBudgetHoldsUnderParallelCalls(t *testing.T) {
	l := New(100, nil, WithClock(func() time.Time { return time.Unix(1_790_000_000, 0) }))
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if ok, _ := l.Allow("runaway-bot"); ok {
					allowed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if allowed.Load() != 100 {
		t.Fatalf("%d calls allowed, want exactly the budget of 100", allowed.Load())
	}
}

func TestBucketsAreBounded(t *testing.T) {
	c := &clock{t: time.Unix(1_790_000_000, 0)}
	l := New(10, nil, WithClock(c.now), WithMaxAgents(100))
	for i := range 1000 {
		l.Allow(string(rune('a'+i%26)) + time.Duration(i).String())
	}
	if n := len(l.buckets); n > 100 {
		t.Fatalf("%d buckets kept, bound is 100", n)
	}
}

func BenchmarkAllow(b *testing.B) {
	l := New(1<<30, nil)
	b.ReportAllocs()
	for b.Loop() {
		l.Allow("reader-bot")
	}
}
