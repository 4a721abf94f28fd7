package policytool

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// writeText prints one suite like go test: a "--- FAIL" block for each test
// that failed or erred, "--- PASS" and "--- SKIP" lines too with verbose,
// then PASS or FAIL and the directory's summary line.
func writeText(w io.Writer, s *suite, verbose bool) {
	if len(s.problems) > 0 {
		fmt.Fprintf(w, "FAIL\t%s [compile failed]\n", s.dir)
		return
	}
	for _, r := range s.results {
		switch {
		case r.Skip:
			if verbose {
				fmt.Fprintf(w, "--- SKIP: %s\n", fullName(r))
			}
		case r.Pass():
			if verbose {
				fmt.Fprintf(w, "--- PASS: %s (%s)\n", fullName(r), fmtDur(r.Duration))
				writeOutput(w, r)
			}
		default:
			fmt.Fprintf(w, "--- FAIL: %s (%s)\n", fullName(r), fmtDur(r.Duration))
			writeFailure(indent(w, "    "), r)
			writeOutput(w, r)
		}
	}
	tests, _, _, _ := s.counts()
	note := ""
	if tests == 0 {
		note = " [no tests to run]"
	}
	if s.ok() {
		fmt.Fprintln(w, "PASS")
		fmt.Fprintf(w, "ok  \t%s\t%.3fs%s\n", s.dir, s.elapsed.Seconds(), note)
		return
	}
	fmt.Fprintln(w, "FAIL")
	fmt.Fprintf(w, "FAIL\t%s\t%.3fs\n", s.dir, s.elapsed.Seconds())
}

// writeOutput prints what the test printed with print().
func writeOutput(w io.Writer, r *tester.Result) {
	if out := strings.TrimSpace(string(r.Output)); out != "" {
		fmt.Fprintln(indent(w, "    "), out)
	}
}

// writeFailure says where and why a test failed: the error with its stack,
// or the expression that was false with the values it compared.
func writeFailure(w io.Writer, r *tester.Result) {
	if r.Error != nil {
		fmt.Fprintf(w, "%s\n", r.Error)
		if tdErr, ok := errors.AsType[*topdown.Error](r.Error); ok && len(tdErr.StackTrace) > 0 {
			fmt.Fprintln(w, "traceback:")
			for _, f := range tdErr.StackTrace {
				fmt.Fprintf(w, "  %v\n", f)
			}
		}
		return
	}
	for name, sr := range r.SubResults.Iter {
		if sr.Fail && len(sr.SubResults) == 0 {
			fmt.Fprintf(w, "case %s: FAIL\n", strings.Join(name, "/"))
		}
	}
	e := failedAt(r.Trace)
	if e == nil {
		fmt.Fprintf(w, "%s:%d: %s is false or undefined\n", fileOf(r), rowOf(r), r.Name)
		return
	}
	fmt.Fprintf(w, "%s:%d: failed:\n", e.Location.File, e.Location.Row)
	var buf bytes.Buffer
	if err := topdown.PrettyEvent(&buf, e, topdown.PrettyEventOpts{PrettyVars: true}); err == nil {
		// PrettyEvent indents with tabs and may leave the last line open.
		text := strings.TrimRight(strings.ReplaceAll(buf.String(), "\n\t", "\n"), "\n")
		fmt.Fprintln(indent(w, "    "), strings.TrimPrefix(text, "\t"))
	}
}

// failedAt is the last expression that failed in the test's own query, as
// `opa test --var-values` finds it.
func failedAt(trace []*topdown.Event) *topdown.Event {
	for _, e := range slices.Backward(trace) {
		if e.Op != topdown.FailOp || e.Location == nil || e.QueryID == 0 {
			continue
		}
		if expr, ok := e.Node.(*ast.Expr); ok {
			if _, every := expr.Terms.(*ast.Every); every {
				continue // the failing expression inside the body is reported
			}
		}
		return e
	}
	return nil
}

// indentWriter prefixes every line.
type indentWriter struct {
	w      io.Writer
	prefix string
	mid    bool // inside a line
}

func indent(w io.Writer, prefix string) io.Writer { return &indentWriter{w: w, prefix: prefix} }

func (iw *indentWriter) Write(p []byte) (int, error) {
	var buf bytes.Buffer
	for _, c := range p {
		if !iw.mid {
			buf.WriteString(iw.prefix)
		}
		buf.WriteByte(c)
		iw.mid = c != '\n'
	}
	if _, err := iw.w.Write(buf.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// writeJSON writes every result in `opa test --format json`'s format (an
// array of results), without the traces.
func writeJSON(w io.Writer, suites []*suite) error {
	var n int
	for _, s := range suites {
		n += len(s.results)
	}
	ch := make(chan *tester.Result, n)
	for _, s := range suites {
		for _, r := range s.results {
			cp := *r
			cp.Trace = nil
			ch <- &cp
		}
	}
	close(ch)
	return tester.JSONReporter{Output: w}.Report(ch)
}

// JUnit XML, as CI systems read it: one testsuite per directory.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

type junitText struct {
	Text string `xml:",cdata"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",cdata"`
}

func writeJUnit(w io.Writer, suites []*suite) error {
	out := junitSuites{Name: "bollard policy test"}
	var total float64
	for _, s := range suites {
		js := junitSuite{Name: s.dir, Time: secs(s.elapsed.Seconds())}
		total += s.elapsed.Seconds()
		if len(s.problems) > 0 {
			// A directory that does not compile is one erring case, so
			// that CI shows the failure instead of an empty suite.
			var msgs []string
			for _, p := range s.problems {
				msgs = append(msgs, p.String())
			}
			js.Tests, js.Errors = 1, 1
			js.Cases = append(js.Cases, junitCase{Name: "compile", Classname: s.dir, Time: secs(0),
				Error: &junitMessage{Message: "the policy does not compile", Type: "compile_error", Text: strings.Join(msgs, "\n")}})
		}
		for _, r := range s.results {
			c := junitCase{Name: r.Name, Classname: r.Package, File: fileOf(r), Line: rowOf(r),
				Time: secs(r.Duration.Seconds())}
			if len(r.Output) > 0 {
				c.SystemOut = &junitText{Text: string(r.Output)}
			}
			switch {
			case r.Skip:
				c.Skipped = &junitMessage{Message: "todo"}
				js.Skipped++
			case r.Error != nil:
				var detail bytes.Buffer
				writeFailure(&detail, r)
				c.Error = &junitMessage{Message: r.Error.Error(), Type: errorCode(r.Error), Text: detail.String()}
				js.Errors++
			case r.Fail:
				var detail bytes.Buffer
				writeFailure(&detail, r)
				c.Failure = &junitMessage{Message: "test failed", Type: "fail", Text: detail.String()}
				js.Failures++
			}
			js.Tests++
			js.Cases = append(js.Cases, c)
		}
		out.Tests += js.Tests
		out.Failures += js.Failures
		out.Errors += js.Errors
		out.Skipped += js.Skipped
		out.Suites = append(out.Suites, js)
	}
	out.Time = secs(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func secs(s float64) string { return fmt.Sprintf("%.3f", s) }

func errorCode(err error) string {
	if tdErr, ok := errors.AsType[*topdown.Error](err); ok {
		return tdErr.Code
	}
	return "error"
}
