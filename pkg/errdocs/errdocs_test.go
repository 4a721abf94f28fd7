package errdocs

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"google.golang.org/grpc/codes"
)

func TestReasons(t *testing.T) {
	path := filepath.Join(t.TempDir(), "doc.md")
	doc := "intro\n\n| Code | `ErrorInfo.reason` | when |\n|---|---|---|\n" +
		"| `NOT_FOUND` | `APPROVAL_NOT_FOUND` | gone |\n" +
		"| `INVALID_ARGUMENT` + `BadRequest` | `INVALID_ARGUMENT` (metadata `detail`) | bad |\n" +
		"| `UNAVAILABLE` | `A` or `B` | down |\n\nafter | `X` | `Y` |\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Reasons(path, "| Code | `ErrorInfo.reason` | when |", 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"APPROVAL_NOT_FOUND": {"NOT_FOUND"}, "INVALID_ARGUMENT": {"INVALID_ARGUMENT"}, "A": {"UNAVAILABLE"}, "B": {"UNAVAILABLE"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Reasons = %v, want %v", got, want)
	}
	if _, err := Reasons(path, "| no such header |", 1, 2); err == nil {
		t.Error("a missing table is not an error")
	}
	if c := Code(codes.FailedPrecondition); c != "FAILED_PRECONDITION" {
		t.Errorf("Code = %s", c)
	}
}
