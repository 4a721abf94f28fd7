package policytool

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bollard-dev/bollard/pkg/audit"
)

var (
	strictDir = filepath.Join("testdata", "replay", "strict")
	looseDir  = filepath.Join("testdata", "replay", "loose")
)

var at = func(hhmm string) time.Time {
	t, err := time.Parse(time.RFC3339, "2026-11-30T"+hhmm+":00Z")
	if err != nil {
		panic(err)
	}
	return t
}

// auditRecords are the calls replayed, as the gateway records them. The
// comment says what the strict and the loose candidate make of each.
var auditRecords = []audit.Record{
	// 1. allowed; strict: denied (frozen); loose: unchanged
	{Time: at("10:00"), DecisionID: "d1", AgentID: "reader-bot", AuthMethod: "key", Action: "users.list", Area: "users", Access: "read",
		Params: map[string]any{"limit": 20.0}, Result: "ok", Obligations: map[string]any{"require_confirmation": false}},
	// 2. denied; strict and loose: allowed
	{Time: at("10:01"), DecisionID: "d2", AgentID: "helpdesk-bot", AuthMethod: "jwt", Action: "users.get", Area: "users", Access: "read",
		Resource: map[string]string{"userId": "00u1"}, Params: map[string]any{"userId": "00u1"}, Result: "denied", DenyCodes: []string{"not_granted"},
		Obligations: map[string]any{"require_confirmation": false}},
	// 3. no decision: skipped
	{Time: at("10:02"), Action: "users.list", Result: "unauthenticated"},
	// 4. an action this build does not know: skipped
	{Time: at("10:03"), DecisionID: "d4", AgentID: "helpdesk-bot", Action: "users.frobnicate", Result: "denied", DenyCodes: []string{"not_granted"}},
	// 5. allowed with a page cap, a password masked; strict and loose: the cap goes
	{Time: at("10:04"), DecisionID: "d5", AgentID: "provisioner-bot", AuthMethod: "key", Action: "users.create", Area: "users", Access: "manage",
		Params: map[string]any{"activate": true, "body": map[string]any{
			"profile": map[string]any{"login": "a@example.com"}, "credentials": map[string]any{"password": map[string]any{"value": "hunter2"}},
		}},
		Result: "ok", Obligations: map[string]any{"require_confirmation": false, "max_page_size": 50}},
	// 6. allowed, the third destructive call this hour; strict: denied (impact_limit)
	{Time: at("10:05"), DecisionID: "d6", AgentID: "provisioner-bot", AuthMethod: "key", Action: "users.delete", Area: "users", Access: "manage",
		Destructive: true, Resource: map[string]string{"userId": "00u6"}, Params: map[string]any{"userId": "00u6"}, Result: "ok",
		Obligations: map[string]any{"require_confirmation": true}, ConfirmationUsed: true,
		Context: map[string]any{"counts": map[string]any{"destructive": map[string]any{"hour": 3, "day": 3}}}},
	// 7. allowed late in the day; strict: denied (late)
	{Time: at("21:00"), DecisionID: "d7", AgentID: "provisioner-bot", AuthMethod: "key", Action: "users.delete", Area: "users", Access: "manage",
		Destructive: true, Resource: map[string]string{"userId": "00u7"}, Params: map[string]any{"userId": "00u7"}, Result: "ok",
		Obligations: map[string]any{"require_confirmation": true}, ConfirmationUsed: true,
		Context: map[string]any{"counts": map[string]any{"destructive": map[string]any{"hour": 0, "day": 0}}}},
	// 8. denied; strict: denied for another reason; loose: allowed
	{Time: at("10:08"), DecisionID: "d8", AgentID: "reader-bot", AuthMethod: "key", Action: "users.delete", Area: "users", Access: "manage",
		Destructive: true, Resource: map[string]string{"userId": "00u8"}, Params: map[string]any{"userId": "00u8"}, Result: "denied",
		DenyCodes: []string{"not_granted"}, Obligations: map[string]any{"require_confirmation": true}},
	// 9. denied in dry run (the call went ahead); strict and loose: allowed
	{Time: at("10:09"), DecisionID: "d9", AgentID: "new-bot", AuthMethod: "key", Action: "groups.list", Area: "groups", Access: "read",
		Result: "ok", DenyCodes: []string{"not_granted"}, DryRun: true, Obligations: map[string]any{"require_confirmation": false}},
	// 10. the intent written before a call went to Okta: its outcome is the
	// record replayed, so the intent is skipped (a call is replayed once)
	{Time: at("10:10"), Kind: audit.KindIntent, DecisionID: "d10", AgentID: "reader-bot", AuthMethod: "key", Action: "users.delete", Area: "users",
		Access: "manage", Destructive: true, Resource: map[string]string{"userId": "00u8"}, Params: map[string]any{"userId": "00u8"}, Result: "pending",
		DenyCodes: []string{"not_granted"}, DryRun: true, Obligations: map[string]any{"require_confirmation": true}},
}

// writeAudit writes records with the real audit logger, then appends raw
// lines.
func writeAudit(t *testing.T, records []audit.Record, raw ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := audit.New(audit.WithFile(path, 0, 0), audit.WithHMACKey([]byte("0123456789abcdef0123456789abcdef")))
	if err != nil {
		t.Fatal(err)
	}
	for i := range records {
		if err := l.Write(t.Context(), &records[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(raw) > 0 {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range raw {
			if _, err := f.WriteString(line + "\n"); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
	}
	return path
}

func replayJSON(t *testing.T, r result) replayReport {
	t.Helper()
	var rep replayReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, r.stdout)
	}
	return rep
}

// changes lists "kind decision_id" for every change.
func changes(rep replayReport) []string {
	var out []string
	for _, c := range rep.Changes {
		out = append(out, c.Kind+" "+c.DecisionID)
	}
	return out
}

func TestReplayStricter(t *testing.T) {
	file := writeAudit(t, auditRecords, `{"timestamp": "not a record"`, "")
	r := runReplay(t, ReplayOptions{AuditFiles: []string{file}, PolicyDir: strictDir, Format: "json"})
	r.wantCode(t, ExitFail)
	rep := replayJSON(t, r)
	want := []string{
		"now_denied d1", "now_allowed d2", "obligations_changed d5", "now_denied d6",
		"now_denied d7", "reasons_changed d8", "now_allowed d9",
	}
	if got := changes(rep); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	s := rep.Summary
	if s.Read != 11 || s.Replayed != 7 || s.NotACall != 1 || s.NoDecision != 1 || s.UnknownAction != 1 || s.Malformed != 1 || s.Changed != 7 || s.Masked != 1 {
		t.Errorf("summary %+v", s)
	}
	if want := file + ":11: skipped: not an audit record"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}
	byID := map[string]change{}
	for _, c := range rep.Changes {
		byID[c.DecisionID] = c
	}
	if c := byID["d6"]; len(c.After.Deny) != 1 || c.After.Deny[0].Code != "impact_limit" || c.Line != 6 || c.File != file {
		t.Errorf("d6 (the context is replayed): %+v", c)
	}
	if c := byID["d7"]; len(c.After.Deny) != 1 || c.After.Deny[0].Code != "late" {
		t.Errorf("d7 (the time is replayed): %+v", c)
	}
	if c := byID["d5"]; !c.Masked || c.Before.Obligations["max_page_size"] != 50.0 || len(c.After.Obligations) != 1 {
		t.Errorf("d5: %+v", c)
	}
	if c := byID["d8"]; strings.Join(c.Before.DenyCodes, ",") != "not_granted" || strings.Join(c.After.DenyCodes, ",") != "frozen" {
		t.Errorf("d8: %+v", c)
	}
	if c := byID["d9"]; !c.DryRun || c.Before.Allow {
		t.Errorf("d9 (dry run records keep the policy's denial): %+v", c)
	}

	// Only the outcome, not obligations or reasons (--obligations=false).
	r = runReplay(t, ReplayOptions{AuditFiles: []string{file}, PolicyDir: strictDir, Format: "json", OutcomesOnly: true})
	r.wantCode(t, ExitFail)
	if s := replayJSON(t, r).Summary; s.Changed != 5 {
		t.Errorf("OutcomesOnly: %+v", s)
	}
}

func TestReplayLooserText(t *testing.T) {
	file := writeAudit(t, auditRecords)
	r := runReplay(t, ReplayOptions{AuditFiles: []string{file}, PolicyDir: looseDir})
	r.wantCode(t, ExitFail)
	for _, want := range []string{
		"denied before, allowed now (3):\n",
		"  " + file + `:2  2026-11-30T10:01:00.000000Z  helpdesk-bot  users.get  {"userId":"00u1"}` + "\n      was not_granted\n",
		"  " + file + ":8  2026-11-30T10:08:00.000000Z  reader-bot  users.delete",
		"groups.list  {}  [dry run]\n",
		"obligations changed (1):\n",
		`users.create  {}  [masked params]` + "\n" + `      obligations {"max_page_size":50,"require_confirmation":false} -> {"require_confirmation":false}` + "\n",
		"policy " + looseDir + " (revision ",
		"records: 10 read, 7 replayed (1 with masked params), 3 skipped (1 not a call's last record, 1 without a decision, 1 unknown action, 0 malformed)\n",
		"changed: 4 (3 denied before, allowed now; 1 obligations changed)\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "allowed before, denied now") {
		t.Errorf("a looser policy denies nothing new:\n%s", r.stdout)
	}
}

func TestReplayNoChange(t *testing.T) {
	// Several files, read in order; the loose policy agrees with these.
	a := writeAudit(t, auditRecords[5:6])
	b := writeAudit(t, auditRecords[6:7])
	r := runReplay(t, ReplayOptions{AuditFiles: []string{a, b}, PolicyDir: looseDir})
	r.wantCode(t, 0)
	if !strings.Contains(r.stdout, "records: 2 read, 2 replayed") || !strings.HasSuffix(r.stdout, "changed: none\n") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}

func TestReplayLongLine(t *testing.T) {
	long := `{"timestamp": "` + strings.Repeat("x", maxRecordLine) + `"}`
	file := writeAudit(t, auditRecords[:1], long)
	r := runReplay(t, ReplayOptions{AuditFiles: []string{file}, PolicyDir: looseDir, Format: "json"})
	r.wantCode(t, 0)
	if s := replayJSON(t, r).Summary; s.Read != 2 || s.Replayed != 1 || s.Malformed != 1 {
		t.Errorf("summary %+v", s)
	}
	if !strings.Contains(r.stderr, file+":2: skipped: longer than") {
		t.Errorf("stderr = %q", r.stderr)
	}
}

func TestReplayErrors(t *testing.T) {
	file := writeAudit(t, auditRecords[:1])
	for _, o := range []ReplayOptions{
		{PolicyDir: looseDir},
		{AuditFiles: []string{file}},
		{AuditFiles: []string{file}, PolicyDir: looseDir, Format: "xml"},
		{AuditFiles: []string{filepath.Join(t.TempDir(), "missing.log")}, PolicyDir: looseDir},
		{AuditFiles: []string{file}, PolicyDir: filepath.Join("testdata", "test", "compile")},
	} {
		runReplay(t, o).wantCode(t, ExitError)
	}
}

// TestReplayFirstStage: a change refused at the first stage was decided
// before any lookup, so its record has no target facts; replayed with the
// same policy it is decided at that stage again and nothing changes (in
// full, without the facts, it would also be unresolved).
func TestReplayFirstStage(t *testing.T) {
	records := []audit.Record{
		{Time: at("15:00"), DecisionID: "g1", AgentID: "reader-bot", AuthMethod: "key", Action: "users.delete", Area: "users", Access: "manage",
			Destructive: true, Resource: map[string]string{"userId": "00u1"}, Params: map[string]any{"userId": "00u1"}, Result: "denied",
			DenyCodes: []string{"not_granted"}, Obligations: map[string]any{"require_confirmation": true, "remove_fields": []any{"profile.mobilePhone", "profile.secondEmail"}},
			Context: map[string]any{"counts": map[string]any{"destructive": map[string]any{"hour": 0, "day": 0}}}},
	}
	r := runReplay(t, ReplayOptions{AuditFiles: []string{writeAudit(t, records)}, PolicyDir: shipped})
	r.wantCode(t, 0)
	if !strings.Contains(r.stdout, "records: 1 read, 1 replayed") || !strings.HasSuffix(r.stdout, "changed: none\n") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}
