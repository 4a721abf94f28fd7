package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/forward"
	"github.com/bollard-dev/bollard/pkg/oktasim"
)

// TestReadsPassOktaJSONThrough compares, for every read action, the result an
// agent receives with the body Okta sends for the same request, modulo JSON
// re-encoding: objects and fields Bollard knows nothing about arrive intact.
func TestReadsPassOktaJSONThrough(t *testing.T) {
	sim := oktasim.New(oktasim.WithAPIToken("sim-token"))
	okta := httptest.NewServer(sim.Handler())
	defer okta.Close()
	fwd, err := forward.New(okta.URL, forward.WithAPIToken("sim-token"))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(o *harnessOption) { o.forwarder = fwd })
	ctx := as(t.Context(), adminBotKey)
	for _, a := range catalog.Actions() {
		if a.Access != catalog.Read {
			continue
		}
		t.Run(a.Name, func(t *testing.T) {
			p := validParams[a.Name]
			resp, err := h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: a.Name, Params: params(t, p)})
			if err != nil {
				t.Fatal(err)
			}
			call, err := a.Bind(jsonish(t, p))
			if err != nil {
				t.Fatal(err)
			}
			url := okta.URL + call.Path
			if len(call.Query) > 0 {
				url += "?" + call.Query.Encode()
			}
			req, _ := http.NewRequestWithContext(t.Context(), "GET", url, nil)
			req.Header.Set("Authorization", "SSWS sim-token")
			direct, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer direct.Body.Close()
			raw, _ := io.ReadAll(direct.Body)
			var want, got any
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			gotRaw, _ := protojson.Marshal(resp.Result)
			if err := json.Unmarshal(gotRaw, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("result differs from Okta's body\n got %s\nwant %s", gotRaw, raw)
			}
		})
	}
}

// TestFastPassFactorKeepsUnknownFields is the case okta-sdk-golang's typed
// models get wrong: a signed_nonce factor comes back with its extra fields.
func TestFastPassFactorKeepsUnknownFields(t *testing.T) {
	h := newHarness(t)
	resp, err := h.client.Execute(as(t.Context(), devKey("reader-bot")), &bollardv1.ExecuteRequest{
		Action: "factors.get", Params: params(t, map[string]any{"userId": oktasim.SeedUserAlice, "factorId": oktasim.SeedFactorAliceFastPass}),
	})
	if err != nil {
		t.Fatal(err)
	}
	f := resp.GetResult().GetStructValue().GetFields()
	if f["factorType"].GetStringValue() != "signed_nonce" || len(f["profile"].GetStructValue().GetFields()) == 0 {
		t.Errorf("FastPass factor lost data: %v", resp.GetResult())
	}
}

func TestPaginationWalksEveryPage(t *testing.T) {
	h := newHarness(t)
	ctx := as(t.Context(), devKey("reader-bot"))
	seen := map[string]bool{}
	after := ""
	for page := 0; ; page++ {
		if page > 20 {
			t.Fatal("pagination does not end")
		}
		p := map[string]any{"limit": 3}
		if after != "" {
			p["after"] = after
		}
		resp, err := h.client.Execute(ctx, &bollardv1.ExecuteRequest{Action: "users.list", Params: params(t, p)})
		if err != nil {
			t.Fatal(err)
		}
		users := resp.GetResult().GetListValue().GetValues()
		if len(users) > 3 {
			t.Fatalf("page of %d users with limit 3", len(users))
		}
		for _, u := range users {
			id := u.GetStructValue().GetFields()["id"].GetStringValue()
			if seen[id] {
				t.Fatalf("user %s on two pages", id)
			}
			seen[id] = true
		}
		if after = resp.NextCursor; after == "" {
			break
		}
	}
	// Like Okta, a plain list leaves DEPROVISIONED users out: 12 of the 13.
	if len(seen) != 12 || seen[oktasim.SeedUserHeidi] {
		t.Errorf("walked %d users (Heidi listed: %v), want the 12 not deprovisioned", len(seen), seen[oktasim.SeedUserHeidi])
	}
}

// TestOktaValidationCausesBecomeFieldViolations uses the simulator's real
// 400 (a login that already exists) rather than an injected fault.
func TestOktaValidationCausesBecomeFieldViolations(t *testing.T) {
	h := newHarness(t)
	_, err := h.client.Execute(as(t.Context(), devKey("provisioner-bot")), &bollardv1.ExecuteRequest{
		Action: "users.create",
		Params: params(t, map[string]any{"body": map[string]any{"profile": map[string]any{
			"firstName": "Alice", "lastName": "Again", "email": oktasim.SeedLoginAlice, "login": oktasim.SeedLoginAlice}}}),
	})
	ei := wantStatus(t, err, codes.InvalidArgument, ReasonOktaBadRequest)
	if ei.Metadata["okta_error_code"] != "E0000001" {
		t.Errorf("okta code = %q", ei.Metadata["okta_error_code"])
	}
	var violations []*errdetails.BadRequest_FieldViolation
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			violations = br.FieldViolations
		}
	}
	if len(violations) == 0 || violations[0].Field != "login" {
		t.Errorf("violations = %v", violations)
	}
}
