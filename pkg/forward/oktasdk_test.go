package forward

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v5/okta"
)

// These tests pin what okta-sdk-golang v5.0.6 actually does where defects
// were reported against v5.0.2, and so why Bollard talks to Okta with its own
// small client (and its own OAuth credential) instead of the SDK. Each test
// asserts 5.0.6's behaviour: if an upgrade changes it, the test fails and the
// reason it states can be re-examined. The SDK is imported only here, in a
// _test file, so the product binary does not carry it.

// sdkClient returns an SDK client for srv with an SSWS token. WithOrgUrl
// loses the port (see the first test), so Host is put back by hand.
func sdkClient(t *testing.T, srv *httptest.Server, setters ...okta.ConfigSetter) *okta.APIClient {
	t.Helper()
	cfg, err := okta.NewConfiguration(append([]okta.ConfigSetter{
		okta.WithOrgUrl(srv.URL), okta.WithToken("sdk-test-token"), okta.WithCache(false),
		okta.WithHttpClientPtr(srv.Client()),
	}, setters...)...)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.URL)
	cfg.Host = u.Host
	return okta.NewAPIClient(cfg)
}

type sdkRecordHost struct{ hosts chan string }

func (r sdkRecordHost) RoundTrip(req *http.Request) (*http.Response, error) {
	r.hosts <- req.URL.Host
	return nil, errors.New("not sent")
}

// (a) Still present: WithOrgUrl keeps only the hostname, so a loopback org
// such as Bollard's simulator (http://127.0.0.1:PORT) is called on port 80.
// Bollard parses the org URL itself (ParseOrgURL) and keeps the port.
func TestOktaSDKWithOrgUrlDropsThePort(t *testing.T) {
	rec := sdkRecordHost{hosts: make(chan string, 1)}
	cfg, err := okta.NewConfiguration(okta.WithOrgUrl("http://127.0.0.1:8123"), okta.WithToken("x"),
		okta.WithHttpClientPtr(&http.Client{Transport: rec}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "127.0.0.1" {
		t.Fatalf("Host = %q; if the port is kept now, the SDK fixed this", cfg.Host)
	}
	_, _, _ = okta.NewAPIClient(cfg).UserAPI.GetUser(t.Context(), "00u1").Execute()
	if got := <-rec.hosts; got != "127.0.0.1" {
		t.Errorf("request went to %q", got)
	}
	if base, _ := ParseOrgURL("http://127.0.0.1:8123"); base.Host != "127.0.0.1:8123" {
		t.Errorf("Bollard's own parsing lost the port: %q", base.Host)
	}
}

// rateLimited answers every call with 429; reset is X-Rate-Limit-Reset in
// seconds from now (0: no header); noDate removes the Date header Go adds.
func sdkRateLimited(hits *atomic.Int32, reset int, noDate bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if noDate {
			w.Header()["Date"] = nil
		}
		if reset > 0 {
			w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(time.Now().Unix()+int64(reset), 10))
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests."}`)
	}
}

// (b) Still present, all four: 429 handling. Bollard does not retry inside
// a call; it returns KindRateLimited with RetryAfter from X-Rate-Limit-Reset
// (measured against Okta's Date, or Retry-After, or 1s) and the rate-limit
// headers, so the agent and policy decide.
func TestOktaSDK429Handling(t *testing.T) {
	tests := []struct {
		name       string
		reset      int
		noDate     bool
		setters    []okta.ConfigSetter
		wantHits   int32
		wantErr    string
		maxElapsed time.Duration
	}{
		// Retries are off by default (MaxRetries 0): the first 429 is final.
		{name: "off by default", reset: 30, wantHits: 1, wantErr: "too many requests"},
		// With retries on and no MaxBackoff, the wait is min(0, reset) = 0:
		// three requests at once into a limit that resets in a minute.
		{name: "instant retries without max backoff", reset: 60, setters: []okta.ConfigSetter{okta.WithRateLimitMaxRetries(2)},
			wantHits: 3, wantErr: "too many requests", maxElapsed: 5 * time.Second},
		// A 429 without Date or X-Rate-Limit-Reset is a permanent error.
		{name: "no Date header", reset: 30, noDate: true, setters: []okta.ConfigSetter{okta.WithRateLimitMaxRetries(3)},
			wantHits: 1, wantErr: "date header is missing"},
		{name: "no reset header", setters: []okta.ConfigSetter{okta.WithRateLimitMaxRetries(3)},
			wantHits: 1, wantErr: "X-Rate-Limit-Reset header is missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(sdkRateLimited(&hits, tc.reset, tc.noDate))
			defer srv.Close()
			start := time.Now()
			_, resp, err := sdkClient(t, srv, tc.setters...).UserAPI.GetUser(t.Context(), "00u1").Execute()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if hits.Load() != tc.wantHits {
				t.Errorf("%d requests, want %d", hits.Load(), tc.wantHits)
			}
			if tc.maxElapsed > 0 && time.Since(start) > tc.maxElapsed {
				t.Errorf("took %v: the SDK now waits between retries", time.Since(start))
			}
			// When retries stop, the caller gets no HTTP response: no status,
			// no X-Rate-Limit-* headers to schedule a retry with, no Okta
			// error model either.
			if resp == nil || resp.Response != nil {
				t.Errorf("APIResponse = %+v; the SDK now returns the 429 response", resp)
			}
			var gerr *okta.GenericOpenAPIError
			if errors.As(err, &gerr) && gerr.Model() != nil {
				t.Errorf("error model filled: %+v", gerr.Model())
			}
		})
	}
}

// (c) signed_nonce: fixed in 5.0.5 (it decodes, as AuthenticatorMethodSignedNonce).
// Still present: a factorType the SDK does not know decodes to an empty
// element without an error, and that element cannot even be marshalled back.
// Bollard passes Okta's JSON through byte for byte, so a factor type added
// after the SDK was generated reaches the agent intact.
func TestOktaSDKListFactorsUnknownDiscriminator(t *testing.T) {
	body := `[{"id":"sms1","factorType":"sms","provider":"OKTA","status":"ACTIVE","profile":{"phoneNumber":"+15555550100"}},` +
		`{"id":"opf1","factorType":"signed_nonce","provider":"OKTA","status":"ACTIVE","profile":{"deviceToken":"x"}},` +
		`{"id":"new1","factorType":"future_factor","provider":"OKTA","status":"ACTIVE"}]`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	defer srv.Close()
	factors, _, err := sdkClient(t, srv).UserFactorAPI.ListFactors(t.Context(), "00u1").Execute()
	if err != nil || len(factors) != 3 {
		t.Fatalf("ListFactors: %d factors, err %v", len(factors), err)
	}
	if factors[0].UserFactorSMS == nil || factors[0].UserFactorSMS.GetId() != "sms1" {
		t.Errorf("sms factor not decoded: %+v", factors[0])
	}
	// It lands in an authenticator-method model, the factor's fields kept
	// only as AdditionalProperties.
	if sn := factors[1].AuthenticatorMethodSignedNonce; sn == nil || sn.AdditionalProperties["id"] != "opf1" {
		t.Errorf("signed_nonce factor not decoded: the 5.0.5 fix regressed")
	}
	if inst := factors[2].GetActualInstance(); inst != nil {
		t.Errorf("unknown factorType decoded into %T: the SDK fixed this", inst)
	}
	if _, err := json.Marshal(factors[2]); err == nil {
		t.Error("the empty element now marshals")
	}
}

// (d) Still present: the SDK fills the Okta error model (errorCode,
// errorSummary, errorCauses) only for 403 and 404 (429 is listed in the code
// but never reached, see above); a 400 with the causes of a validation
// failure arrives as the bare status text. Bollard parses Okta's error body
// for every status (newError).
func TestOktaSDKErrorModelOnlyFor403And404(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 405, 409, 500} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				fmt.Fprintf(w, `{"errorCode":"E0000001","errorSummary":"Api validation failed","errorCauses":[{"errorSummary":"login: taken"}]}`)
			}))
			defer srv.Close()
			_, _, err := sdkClient(t, srv).UserAPI.GetUser(t.Context(), "00u1").Execute()
			var gerr *okta.GenericOpenAPIError
			if !errors.As(err, &gerr) {
				t.Fatalf("err = %T %v", err, err)
			}
			model, ok := gerr.Model().(okta.Error)
			if want := status == 403 || status == 404; ok != want {
				t.Fatalf("model present = %t, want %t (error %q)", ok, want, gerr.Error())
			}
			if ok && model.GetErrorCode() != "E0000001" {
				t.Errorf("model = %+v", model)
			}
		})
	}
}

// (e) Still present: with Okta's links in one comma-joined Link header,
// NextPage returns the self link (the next page is lost, and following it
// loops); and Next takes no context, sending with the client's
// configuration context, so a cancelled caller still pages on. Bollard
// splits Link headers properly (nextCursor) and never pages on its own.
func TestOktaSDKPagination(t *testing.T) {
	var calls atomic.Int32
	var joined atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		self := `<http://` + r.Host + `/api/v1/users?limit=1>; rel="self"`
		next := `<http://` + r.Host + `/api/v1/users?after=00u9&limit=1>; rel="next"`
		if joined.Load() {
			w.Header().Set("Link", self+", "+next)
		} else {
			w.Header().Add("Link", self)
			w.Header().Add("Link", next)
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `[{"id":"00u1"}]`)
	}))
	defer srv.Close()
	client := sdkClient(t, srv)

	t.Run("comma-joined Link header", func(t *testing.T) {
		joined.Store(true)
		defer joined.Store(false)
		_, resp, err := client.UserAPI.ListUsers(t.Context()).Limit(1).Execute()
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.NextPage(); got != "/api/v1/users?limit=1" {
			t.Errorf("NextPage = %q, not the self link; the SDK changed", got)
		}
		if got := nextCursor(resp.Header.Values("Link")); got != "00u9" {
			t.Errorf("Bollard's nextCursor = %q, want 00u9", got)
		}
	})

	t.Run("Next ignores the caller's context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		_, resp, err := client.UserAPI.ListUsers(ctx).Limit(1).Execute()
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		before := calls.Load()
		var page []okta.User
		if _, err := resp.Next(&page); err != nil || calls.Load() != before+1 {
			t.Errorf("Next after cancel: err %v, %d requests; the SDK now honours the context", err, calls.Load()-before)
		}
	})
}

// sdkTokenEndpoint is a minimal org token endpoint for the SDK's PrivateKey mode.
type sdkTokenEndpoint struct {
	mu     sync.Mutex
	scopes []string
	auths  []string      // Authorization of each API call
	wait   chan struct{} // closed once two token requests are in
}

func (te *sdkTokenEndpoint) handler(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth2/v1/token" {
			te.mu.Lock()
			te.auths = append(te.auths, r.Header.Get("Authorization"))
			te.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"00u1"}`)
			return
		}
		r.ParseForm()
		te.mu.Lock()
		te.scopes = append(te.scopes, r.PostForm.Get("scope"))
		n := len(te.scopes)
		if n == 2 && te.wait != nil {
			close(te.wait)
		}
		te.mu.Unlock()
		if te.wait != nil {
			select { // hold the first request until a second one arrives
			case <-te.wait:
			case <-time.After(2 * time.Second):
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if status != 200 {
			io.WriteString(w, `{"error":"invalid_client","error_description":"The client_assertion signature is invalid."}`)
			return
		}
		io.WriteString(w, `{"token_type":"Bearer","expires_in":3600,"access_token":"sdk-at-`+strconv.Itoa(n)+`","scope":"`+r.PostForm.Get("scope")+`"}`)
	}
}

func privateKeyClient(t *testing.T, srv *httptest.Server, scopes ...string) *okta.APIClient {
	t.Helper()
	pemKey := string(pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(testRSAKey())))
	return sdkClient(t, srv, okta.WithAuthorizationMode("PrivateKey"), okta.WithClientId(testClientID),
		okta.WithScopes(scopes), okta.WithPrivateKey(pemKey), okta.WithPrivateKeyId("kid"))
}

// Why not okta.NewPrivateKeyAuth: one token, for every configured scope at
// once, cached under one key; no single flight; a token endpoint refusal
// loses Okta's error code. Bollard's OAuth keeps one token per scope, shares
// one request per scope among concurrent callers, and reports the scope and
// OAuth error code.
func TestOktaSDKPrivateKeyAuth(t *testing.T) {
	t.Run("one token carries every scope", func(t *testing.T) {
		te := &sdkTokenEndpoint{}
		srv := httptest.NewServer(te.handler(200))
		defer srv.Close()
		client := privateKeyClient(t, srv, scopeUsersRead, scopeUsersManage)
		for _, id := range []string{"00u1", "00u2"} {
			if _, _, err := client.UserAPI.GetUser(t.Context(), id).Execute(); err != nil {
				t.Fatal(err)
			}
		}
		te.mu.Lock()
		defer te.mu.Unlock()
		if len(te.scopes) != 1 || te.scopes[0] != scopeUsersRead+" "+scopeUsersManage {
			t.Errorf("token requests asked for %q; want one request for both scopes", te.scopes)
		}
		if len(te.auths) != 2 || te.auths[0] != "Bearer sdk-at-1" || te.auths[1] != te.auths[0] {
			t.Errorf("reads carried %q; want the one token that can also write", te.auths)
		}
	})

	t.Run("no single flight", func(t *testing.T) {
		te := &sdkTokenEndpoint{wait: make(chan struct{})}
		srv := httptest.NewServer(te.handler(200))
		defer srv.Close()
		client := privateKeyClient(t, srv, scopeUsersRead)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { client.UserAPI.GetUser(t.Context(), "00u1").Execute() })
		}
		wg.Wait()
		te.mu.Lock()
		defer te.mu.Unlock()
		if len(te.scopes) < 2 {
			t.Errorf("%d token requests for 8 concurrent cold calls; the SDK now shares one", len(te.scopes))
		}
	})

	t.Run("refusal loses the OAuth error", func(t *testing.T) {
		srv := httptest.NewServer((&sdkTokenEndpoint{}).handler(401))
		defer srv.Close()
		_, _, err := privateKeyClient(t, srv, scopeUsersRead).UserAPI.GetUser(t.Context(), "00u1").Execute()
		if err == nil || err.Error() != "Empty access token" {
			t.Errorf("err = %v; the SDK now reports the token endpoint's error", err)
		}
	})
}
