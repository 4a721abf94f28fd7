// Package errdocs reads the error tables the docs keep (README.md's for
// the gateway, docs/approvals.md's for ApprovalService), so that each
// service's test can hold its error table to the one people read: every
// reason documented with its code, nothing documented that is not
// returned. It is for tests.
package errdocs

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"unicode"

	"google.golang.org/grpc/codes"
)

var word = regexp.MustCompile("`([A-Z_]+)`")

// Reasons reads the Markdown table under the header line header in the
// file at path: each `REASON` in column reasonCol (1 is the first) with
// the `CODE`s in column codeCol of the rows that name it.
func Reasons(path, header string, codeCol, reasonCol int) (map[string][]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	_, table, ok := strings.Cut(string(b), header+"\n")
	if !ok {
		return nil, fmt.Errorf("%s has no table headed %q", path, header)
	}
	out := map[string][]string{}
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(line, "|")
		if len(cells) <= max(codeCol, reasonCol) {
			continue
		}
		var rowCodes []string
		for _, m := range word.FindAllStringSubmatch(cells[codeCol], -1) {
			rowCodes = append(rowCodes, m[1])
		}
		for _, m := range word.FindAllStringSubmatch(cells[reasonCol], -1) {
			out[m[1]] = append(out[m[1]], rowCodes...)
		}
	}
	return out, nil
}

// Code is a gRPC code's canonical name (INVALID_ARGUMENT), as the docs
// write it.
func Code(c codes.Code) string {
	var b strings.Builder
	for i, r := range c.String() {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}
