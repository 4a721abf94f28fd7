package forward

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestInflightCapIsAIMD(t *testing.T) {
	f := newInflight(8, 10)
	take := func(n int) []slot {
		t.Helper()
		out := make([]slot, n)
		for i := range out {
			s, err := f.acquire(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			out[i] = s
		}
		return out
	}
	// A burst of eight meets Okta's limit: the cap halves once, not once
	// per 429, as all eight were sent under the old cap.
	burst := take(8)
	for _, s := range burst {
		f.done(s, resultConcurrencyLimited)
	}
	if got := f.limitNow(); got != 4 {
		t.Fatalf("cap after one burst of 429s = %d, want 4", got)
	}
	// Sent under the new cap and limited again: halved again, down to 1
	// and never below.
	for _, want := range []int{2, 1, 1} {
		f.done(take(1)[0], resultConcurrencyLimited)
		if got := f.limitNow(); got != want {
			t.Fatalf("cap = %d, want %d", got, want)
		}
	}
	// It grows by one after as many answers in a row as the cap, up to the
	// configured 8 and no further.
	answers := 0
	for f.limitNow() < 8 {
		f.done(take(1)[0], resultAnswered)
		answers++
		if answers > 100 {
			t.Fatalf("cap stuck at %d", f.limitNow())
		}
	}
	if answers != 1+2+3+4+5+6+7 {
		t.Errorf("took %d answers from 1 to 8, want 28", answers)
	}
	for range 20 {
		f.done(take(1)[0], resultAnswered)
	}
	if got := f.limitNow(); got != 8 {
		t.Errorf("cap = %d, want it to stay at the configured 8", got)
	}
	// A failure in transit says nothing about the cap.
	f.done(take(1)[0], resultNone)
	if got := f.limitNow(); got != 8 {
		t.Errorf("cap = %d after a failure in transit", got)
	}
}

// TestInflightReleasesOneWaiterPerPlace: when the cap is lowered and places
// free up, the queue goes one waiter per free place, oldest first, never
// all at once.
func TestInflightReleasesOneWaiterPerPlace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newInflight(4, 10)
		held := make([]slot, 4)
		for i := range held {
			held[i], _ = f.acquire(t.Context())
		}
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		defer wg.Wait()
		defer cancel()
		granted := make(chan int, 6)
		for i := range 6 {
			wg.Go(func() {
				s, err := f.acquire(ctx)
				if err != nil {
					return // still waiting when the test ends
				}
				granted <- i
				<-ctx.Done()
				f.done(s, resultNone)
			})
			synctest.Wait() // queue in order
		}
		// One 429 halves the cap to 2; the four in flight finish.
		f.done(held[0], resultConcurrencyLimited)
		for _, s := range held[1:] {
			f.done(s, resultAnswered)
		}
		synctest.Wait()
		if n := len(granted); n != 2 {
			t.Fatalf("%d waiters released, want 2 (the cap in force)", n)
		}
		if a, b := <-granted, <-granted; a+b != 1 { // 0 and 1, in either order
			t.Errorf("released %d and %d, want the two oldest", a, b)
		}
	})
}

func TestInflightWaiterGivesUpWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newInflight(1, 1)
		s, _ := f.acquire(t.Context())
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := f.acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the deadline", err)
		}
		// Its place in the queue is gone: another can wait, and gets the
		// slot once it is free.
		got := make(chan error, 1)
		go func() {
			_, err := f.acquire(t.Context())
			got <- err
		}()
		synctest.Wait()
		f.done(s, resultAnswered)
		if err := <-got; err != nil {
			t.Fatal(err)
		}
	})
}

// TestInflightShareIsASecondCap: the fleet's share caps the places beside
// the adaptive cap, the lower in force; a share that grows lets waiters go
// at once, and a share of 0 leaves the adaptive cap alone.
func TestInflightShareIsASecondCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newInflight(4, 10)
		f.setShare(1)
		if got := f.capNow(); got != 1 {
			t.Fatalf("cap with a share of 1 = %d", got)
		}
		first, err := f.acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan slot, 2)
		for range 2 {
			go func() {
				s, err := f.acquire(t.Context())
				if err != nil {
					t.Error(err)
				}
				got <- s
			}()
		}
		synctest.Wait()
		if len(got) != 0 {
			t.Fatal("a waiter went past a share of 1")
		}
		f.setShare(2) // one more place: one waiter goes
		synctest.Wait()
		if len(got) != 1 {
			t.Fatalf("%d waiters went when the share grew by one, want 1", len(got))
		}
		f.setShare(0) // no share: the adaptive cap of 4
		synctest.Wait()
		if len(got) != 2 || f.capNow() != 4 || f.limitNow() != 4 {
			t.Fatalf("without a share: %d waiters went, cap %d", len(got), f.capNow())
		}
		f.done(first, resultAnswered)
		f.done(<-got, resultAnswered)
		f.done(<-got, resultAnswered)
	})
}
