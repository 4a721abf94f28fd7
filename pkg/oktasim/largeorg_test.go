package oktasim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
)

func TestExtraUsers(t *testing.T) {
	const n = 1000
	e := newEnv(t, WithExtraUsers(n))
	all, pages := walk(t, e, "/api/v1/users?limit=200")
	// The seed's twelve users that are not DEPROVISIONED, and the extra ones.
	if len(all) != n+12 || pages != (n+12+199)/200 {
		t.Fatalf("walked %d users in %d pages", len(all), pages)
	}
	if !slices.IsSorted(all) {
		t.Errorf("users not in id order")
	}
	for _, i := range []int{0, 500, n - 1} {
		if !slices.Contains(all, ExtraUserID(i)) {
			t.Errorf("extra user %d not listed", i)
		}
	}
	u := e.do("GET", "/api/v1/users/"+url.PathEscape(ExtraUserLogin(42)), nil).want(t, 200).object(t)
	if u["id"] != ExtraUserID(42) || u["status"] != StatusActive || str(u, "profile", "email") != ExtraUserLogin(42) {
		t.Errorf("extra user 42 = %v", u)
	}
	e.do("GET", "/api/v1/users/bulk.user000042", nil).want(t, 200)

	members, _ := walk(t, e, "/api/v1/groups/"+SeedGroupEveryone+"/users?limit=300")
	if len(members) != n+13 || !slices.IsSorted(members) {
		t.Errorf("Everyone has %d members listed, want %d in order", len(members), n+13)
	}
	search := url.QueryEscape(`profile.lastName eq "User000999"`)
	if got := ids(e.do("GET", "/api/v1/users?search="+search, nil).want(t, 200).array(t)); !slices.Equal(got, []string{ExtraUserID(999)}) {
		t.Errorf("search found %v", got)
	}
	// A login taken by an extra user is taken.
	e.do("POST", "/api/v1/users", newUserBody(ExtraUserLogin(7))).wantError(t, 400, CodeValidation)
}

// BenchmarkListUsersLargeOrg fetches one page of 200 users deep into a
// 100,000-user org: with the sorted id index the cost is the page, not the
// org.
func BenchmarkListUsersLargeOrg(b *testing.B) {
	sim := New(WithExtraUsers(100_000))
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	sim.mu.Lock()
	path := "/api/v1/users?after=" + sealCursor(sim.secret, "/api/v1/users", ExtraUserID(90_000)) + "&limit=200"
	sim.mu.Unlock()
	client := srv.Client()
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequestWithContext(b.Context(), "GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "SSWS "+sim.APIToken())
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkNewLargeOrg is the cost of building a 100,000-user org.
func BenchmarkNewLargeOrg(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		New(WithExtraUsers(100_000))
	}
}
