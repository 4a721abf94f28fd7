// Package browser starts a headless Chromium (Debian's chromium) for a
// test, through chromedp: the web console's tests drive the pages as a
// person's browser gets them. Without a browser the test is skipped, or
// failed under BOLLARD_REQUIRE_TOOLS=1 (package tooltest).
package browser

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bollard-dev/bollard/pkg/tooltest"
)

// Start starts a headless Chromium of the test's own (a fresh profile),
// stopped at the test's end, and returns its context, bounded by timeout.
func Start(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	bin := tooltest.Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()), chromedp.Flag("disable-dev-shm-usage", true))
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(bctx); err != nil { // starts the browser, bound to bctx
		t.Fatalf("start %s: %v", bin, err)
	}
	return bctx
}
