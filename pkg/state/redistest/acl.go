package redistest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/bollard-dev/bollard/pkg/config"
)

// documentedACL is the ACL example in docs/scaling.md.
var documentedACL = regexp.MustCompile("`ACL SETUSER (\\S+) ([^`]+)`")

// DocumentedACLConfig creates on s the ACL user that the document at doc
// (docs/scaling.md) recommends, with a password of the test's and the
// server's key prefix, and returns the config that logs in as that user:
// a test then shows that Bollard's scripts run with no more rights than
// the documentation gives (a script runs with its caller's).
func (s *Server) DocumentedACLConfig(doc string) config.Redis {
	s.t.Helper()
	text, err := os.ReadFile(doc)
	if err != nil {
		s.t.Fatal(err)
	}
	m := documentedACL.FindSubmatch(text)
	if m == nil {
		s.t.Fatalf("no ACL SETUSER example in %s", doc)
	}
	cfg := s.Config()
	cfg.Username, cfg.PasswordFile = string(m[1]), filepath.Join(s.t.TempDir(), "password")
	if err := os.WriteFile(cfg.PasswordFile, []byte("test-password\n"), 0o600); err != nil {
		s.t.Fatal(err)
	}
	args := []any{"ACL", "SETUSER", cfg.Username}
	for _, rule := range strings.Fields(string(m[2])) {
		switch {
		case strings.HasPrefix(rule, ">"):
			rule = ">test-password"
		case strings.HasPrefix(rule, "~"):
			rule = "~" + cfg.KeyPrefix + "*"
		}
		args = append(args, rule)
	}
	if err := s.Client().Do(s.t.Context(), args...).Err(); err != nil {
		s.t.Fatalf("the documented ACL: %v", err)
	}
	return cfg
}
