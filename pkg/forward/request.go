package forward

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/bollard-dev/bollard/pkg/catalog"
)

// NewRequest builds the HTTP request Client.Do sends to the org for call:
// the org URL (from ParseOrgURL) joined with the call's escaped path and
// encoded query, the JSON headers, a User-Agent of userAgent naming the
// decision, and cred's authorization for the action's scope. Client.Do
// builds every attempt with it, and it is exported so that a tool that must
// send exactly what Bollard sends (the load generator's straight-at-Okta
// baseline) builds it here rather than by hand.
func NewRequest(ctx context.Context, org *url.URL, call *catalog.Call, userAgent, decisionID string, cred Credential) (*http.Request, error) {
	// call.Path is already escaped segment by segment and the org URL has no
	// path, so the target is a plain concatenation; url.URL would re-escape.
	target := org.String() + call.Path
	if len(call.Query) > 0 {
		target += "?" + call.Query.Encode()
	}
	var body io.Reader
	if call.Body != nil {
		body = bytes.NewReader(call.Body)
	}
	req, err := http.NewRequestWithContext(ctx, call.Action.Method, target, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if call.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	ua := userAgent + " decision/" + decisionID
	if call.Lookup {
		// Okta's System Log tells Bollard's own reads from the agents'.
		ua += " lookup"
	}
	req.Header.Set("User-Agent", ua)
	if err := cred.Authorize(ctx, req, call.Action.Scope); err != nil {
		return nil, fmt.Errorf("authorize: %w", err)
	}
	return req, nil
}
