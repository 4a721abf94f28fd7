package gateway

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	bollardv1 "github.com/bollard-dev/bollard/api/proto/bollard/v1"
	"github.com/bollard-dev/bollard/pkg/catalog"
	"github.com/bollard-dev/bollard/pkg/oktasim"
	"github.com/bollard-dev/bollard/pkg/telemetry"
)

// backticked are the `code` spans of a Markdown cell or text; dotted the
// area.verb words in them.
var (
	backticked = regexp.MustCompile("`([^`]+)`")
	dotted     = regexp.MustCompile(`[a-z_]+\.[a-z_]+`)
)

// decideAttributeDocs reads the bollard.decide attribute table of
// docs/observability.md: each attribute's key(s) and the values its cell
// names.
func decideAttributeDocs(t *testing.T) (rows map[string][]string, doc string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "observability.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc = string(raw)
	start := strings.Index(doc, "`"+telemetry.SpanDecide+"`:\n")
	if start < 0 {
		t.Fatalf("docs/observability.md has no %s attribute table", telemetry.SpanDecide)
	}
	rows = map[string][]string{}
	for _, line := range strings.Split(doc[start:], "\n")[1:] {
		if line == "" && len(rows) > 0 {
			break
		}
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.Contains(cells[1], "`bollard.") {
			continue
		}
		var values []string
		for _, m := range backticked.FindAllStringSubmatch(cells[3], -1) {
			values = append(values, m[1])
		}
		for _, m := range backticked.FindAllStringSubmatch(cells[1], -1) {
			rows[m[1]] = values
		}
	}
	return rows, doc
}

// TestObservabilityDocsMatchTheSpans: the bollard.decide attributes that
// docs/observability.md documents are the ones the spans carry, with the
// values they take, and every action the page names is one of the catalog.
func TestObservabilityDocsMatchTheSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	h := newHarness(t, traced(exp), withGateway(WithShadow(regoEngine(t, denyAllPolicy)), WithDryRunAgents([]string{"reader-bot"})))
	reader, provisioner := as(t.Context(), devKey("reader-bot")), as(t.Context(), devKey("provisioner-bot"))
	alice := params(t, map[string]any{"userId": oktasim.SeedUserAlice})
	h.client.Execute(reader, &bollardv1.ExecuteRequest{Action: "users.get", Params: alice})
	h.client.Execute(as(t.Context(), devKey("helpdesk-bot")), &bollardv1.ExecuteRequest{Action: "apps.list"}) // no apps grant
	h.client.Execute(provisioner, &bollardv1.ExecuteRequest{Action: "users.delete", Params: params(t, map[string]any{"userId": oktasim.SeedUserHeidi})})
	h.client.Execute(reader, &bollardv1.ExecuteRequest{Action: "groups.create", Params: params(t, map[string]any{"body": map[string]any{"profile": map[string]any{"name": "docs"}}})})
	h.client.Execute(provisioner, &bollardv1.ExecuteRequest{Action: "users.frobnicate"})
	h.client.Execute(t.Context(), &bollardv1.ExecuteRequest{Action: "users.list"})

	rows, doc := decideAttributeDocs(t)
	emitted := map[string][]string{}
	for _, sp := range spansNamed(exp, telemetry.SpanDecide) {
		for _, kv := range sp.Attributes {
			k := string(kv.Key)
			if v := kv.Value.Emit(); !slices.Contains(emitted[k], v) {
				emitted[k] = append(emitted[k], v)
			}
		}
	}
	for k := range emitted {
		if _, ok := rows[k]; !ok {
			t.Errorf("spans carry %s, which docs/observability.md does not document", k)
		}
	}
	for k := range rows {
		if _, ok := emitted[k]; !ok {
			t.Errorf("docs/observability.md documents %s, which no span of these calls carried", k)
		}
	}
	// The enumerated attributes: every value a span took is named.
	for _, k := range []string{string(telemetry.AttrResult), string(telemetry.AttrAccess), string(telemetry.AttrShadowDifference)} {
		for _, v := range emitted[k] {
			if !slices.Contains(rows[k], v) {
				t.Errorf("a span has %s = %q, which docs/observability.md does not name (it names %v)", k, v, rows[k])
			}
		}
	}
	for _, want := range []string{"ok", "denied", "confirmation_required", "invalid", "unauthenticated"} {
		if !slices.Contains(emitted[string(telemetry.AttrResult)], want) {
			t.Errorf("no call ended %s (results: %v): the test shows less than it should", want, emitted[string(telemetry.AttrResult)])
		}
	}
	// Every action the page names exists.
	areas := map[string]bool{}
	for _, a := range catalog.Areas() {
		areas[a.Name] = true
	}
	for _, m := range backticked.FindAllStringSubmatch(doc, -1) {
		for _, word := range dotted.FindAllString(m[1], -1) {
			area, _, _ := strings.Cut(word, ".")
			if _, ok := catalog.Lookup(word); areas[area] && !ok {
				t.Errorf("docs/observability.md names %s, which is not a catalog action", word)
			}
		}
	}
}
