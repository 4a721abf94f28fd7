package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/loopback"
)

// UserAgent is the product part of the baseline's User-Agent, in the shape
// Bollard's own ("bollard/<version> decision/<id>").
const UserAgent = "bollard/loadgen"

// baselineDecisionID stands in for the decision id Bollard puts in each
// request's User-Agent; it has the length of a real one, so the request
// is the same size (a UUIDv7, decision.NewID).
const baselineDecisionID = "00000000-0000-7000-8000-000000000000"

// StatusError is an answer from Okta outside 2xx.
type StatusError struct{ Status int }

func (e *StatusError) Error() string {
	return fmt.Sprintf("okta answered %d %s", e.Status, http.StatusText(e.Status))
}

func (o Options) validateOkta() []error {
	var errs []error
	if o.OktaToken == "" {
		errs = append(errs, errors.New("okta token is required for the okta baseline"))
	}
	u, err := forward.ParseOrgURL(o.OktaURL)
	switch {
	case err != nil:
		errs = append(errs, err)
	case !o.AllowRemote && !loopback.Host(u.Hostname()):
		errs = append(errs, fmt.Errorf("okta URL %q is not loopback (use --allow-remote)", o.OktaURL))
	}
	if _, err := catalog.Bind(o.Action, o.Params); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// oktaCaller sends the action straight to the Okta org, as Bollard's
// forwarder would after allowing it: bound by the catalog, built by
// forward.NewRequest, with the same credential header. The connections are
// kept alive, one per caller, so the baseline measures Okta and not
// connection setup.
func oktaCaller(o Options) (call func(context.Context, int) error, stop func(), err error) {
	org, err := forward.ParseOrgURL(o.OktaURL)
	if err != nil {
		return nil, nil, err
	}
	cred, err := forward.SSWS(o.OktaToken)
	if err != nil {
		return nil, nil, err
	}
	bound, err := catalog.Bind(o.Action, o.Params)
	if err != nil {
		return nil, nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = o.Concurrency, o.Concurrency
	// Like Bollard's forwarder, never follow a redirect with the credential.
	hc := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return func(ctx context.Context, _ int) error {
		req, err := forward.NewRequest(ctx, org, bound, UserAgent, baselineDecisionID, cred)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		// Read to the end, as the forwarder does, and so the connection is reused.
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return &StatusError{Status: resp.StatusCode}
		}
		return nil
	}, tr.CloseIdleConnections, nil
}
