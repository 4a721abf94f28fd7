package forward

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

// sentFlag records whether a request got a connection to Okta. From then on
// the transport may write it at any moment, on its own goroutine, even after
// Do has returned an error; WroteHeaders or WroteRequest could come too late
// to be seen. GotConn is called on the caller's goroutine before anything is
// written, so it is the earliest signal that is certain to be seen. Failing
// before it (DNS, a refused dial, TLS) means nothing left Bollard.
type sentFlag struct{ atomic.Bool }

func (f *sentFlag) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { f.Store(true) }}
}

// failureKind classifies a failure in transit. A write that may have reached
// Okta is KindOutcomeUnknown, not Okta being down: an agent told "unavailable"
// sends it again, and a create or an add could then be applied twice.
func (c *Client) failureKind(ctx context.Context, call *catalog.Call, sent bool) Kind {
	k := c.transportKind(ctx)
	// A caller that went away does not undo a write already on its way:
	// the record must not read as if nothing happened.
	if sent && isWrite(call) && (k == KindUnavailable || k == KindTimeout || k == KindCanceled) {
		return KindOutcomeUnknown
	}
	return k
}

// writeApplied reports whether Okta's status says a write was applied, so
// that losing the rest of the answer leaves its outcome unknown to the agent.
func writeApplied(call *catalog.Call, status int) bool {
	return isWrite(call) && status >= 200 && status <= 299
}

func isWrite(call *catalog.Call) bool { return call.Action.Method != http.MethodGet }
