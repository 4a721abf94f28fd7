package chart

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// dockerfile reads the top-level Dockerfile's instructions, continuation
// lines joined.
func dockerfile(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if s, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(trimmed)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

// shellWords splits a command line as sh would for the simple forms the
// Dockerfile uses: words, "double" and 'single' quoted strings, and
// ${VAR} references expanded from env.
func shellWords(t *testing.T, s string, env map[string]string) []string {
	t.Helper()
	expand := func(w string) string {
		return regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)`).ReplaceAllStringFunc(w, func(m string) string {
			name := strings.Trim(m, "${}")
			v, ok := env[name]
			if !ok {
				t.Fatalf("the Dockerfile's build line uses $%s, which the test does not know", name)
			}
			return v
		})
	}
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case '"', '\'':
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				t.Fatalf("unterminated quote in %q", s)
			}
			part := s[i+1 : i+1+end]
			if c == '"' {
				part = expand(part)
			}
			cur.WriteString(part)
			inWord = true
			i += end + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\"'", rune(s[j])) {
				j++
			}
			cur.WriteString(expand(s[i:j]))
			inWord = true
			i = j - 1
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// TestDockerfileBuild runs the build stage's `go build` line exactly (only
// the output path moved to a temporary directory), so the line cannot rot,
// and checks that the version is stamped.
func TestDockerfileBuild(t *testing.T) {
	var build string
	for _, ins := range dockerfile(t) {
		if strings.HasPrefix(ins, "RUN ") && strings.Contains(ins, "go build") {
			if build != "" {
				t.Fatalf("more than one go build line:\n%s\n%s", build, ins)
			}
			build = strings.TrimPrefix(ins, "RUN ")
			// Build-time mounts (caches) are Docker's, not the command's.
			for strings.HasPrefix(build, "--mount=") {
				_, build, _ = strings.Cut(build, " ")
				build = strings.TrimSpace(build)
			}
		}
	}
	if build == "" {
		t.Fatal("no RUN ... go build line in the Dockerfile")
	}
	const version = "v0.0.0-dockerfile-test"
	words := shellWords(t, build, map[string]string{"VERSION": version, "TARGETOS": runtime.GOOS, "TARGETARCH": runtime.GOARCH})
	// Leading NAME=value words are the command's environment; CGO_ENABLED=0
	// makes the static binary distroless static needs.
	var env []string
	for len(words) > 0 && regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`).MatchString(words[0]) {
		env = append(env, words[0])
		words = words[1:]
	}
	for _, want := range []string{"CGO_ENABLED=0", "GOOS=" + runtime.GOOS, "GOARCH=" + runtime.GOARCH} {
		if !slices.Contains(env, want) {
			t.Errorf("the build line does not set %s", want)
		}
	}
	if len(words) < 2 || words[0] != "go" || words[1] != "build" {
		t.Fatalf("build line %q is not `go build ...`", build)
	}
	for _, flag := range []string{"-trimpath", "-ldflags"} {
		if !slices.Contains(words, flag) {
			t.Errorf("the build line lacks %s", flag)
		}
	}
	o := slices.Index(words, "-o")
	if o < 0 || o+1 >= len(words) || words[o+1] != "/sidecar" {
		t.Fatalf("the build line must write -o /sidecar, the path the final stage copies")
	}
	bin := filepath.Join(t.TempDir(), "sidecar")
	words[o+1] = bin

	cmd := exec.CommandContext(t.Context(), words[0], words[1:]...)
	cmd.Dir = repoRoot // the Dockerfile's WORKDIR holds the whole module
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, out)
	}
	out, err := exec.CommandContext(t.Context(), bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("sidecar version: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "bollard "+version {
		t.Errorf("sidecar version printed %q, want %q: the -X main.version stamp does not reach the binary", got, "bollard "+version)
	}
	// CGO_ENABLED=0: no dynamic loader needed on distroless static.
	if raw, err := os.ReadFile(bin); err == nil && strings.Contains(string(raw), "/lib64/ld-linux") {
		t.Errorf("the binary is dynamically linked")
	}
}

// TestDockerfileRuntime checks the final stage: distroless or scratch, a
// non-root user, the binary as entrypoint and serve as the default command.
func TestDockerfileRuntime(t *testing.T) {
	ins := dockerfile(t)
	var last int
	for i, in := range ins {
		if strings.HasPrefix(in, "FROM ") {
			last = i
		}
	}
	final := ins[last:]
	from := final[0]
	if !strings.Contains(from, "gcr.io/distroless/static") && !strings.HasPrefix(from, "FROM scratch") {
		t.Errorf("final stage %q is neither distroless static nor scratch", from)
	}
	want := map[string]bool{
		`ENTRYPOINT ["/sidecar"]`:                                false,
		`CMD ["serve", "--config", "/etc/bollard/bollard.yaml"]`: false,
		`COPY --from=build /sidecar /sidecar`:                    false,
	}
	var user string
	for _, in := range final {
		if _, ok := want[in]; ok {
			want[in] = true
		}
		if u, ok := strings.CutPrefix(in, "USER "); ok {
			user = u
		}
		if strings.HasPrefix(in, "RUN ") {
			t.Errorf("final stage runs %q: it has no shell", in)
		}
	}
	for in, seen := range want {
		if !seen {
			t.Errorf("final stage lacks %s", in)
		}
	}
	if uid, _, _ := strings.Cut(user, ":"); user == "" || uid == "0" || uid == "root" {
		t.Errorf("final stage USER is %q, want a non-root user", user)
	}
	// The chart runs the container as this uid: they must agree.
	values, err := os.ReadFile(filepath.Join(chartDir, "templates", "_helpers.tpl"))
	if err != nil {
		t.Fatal(err)
	}
	if uid, _, _ := strings.Cut(user, ":"); !strings.Contains(string(values), "runAsUser: "+uid) {
		t.Errorf("the chart does not run as the image's user %s", uid)
	}
}
