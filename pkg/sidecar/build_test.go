package sidecar

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bollard-dev/bollard/pkg/config"
)

// When one address cannot be bound, listen leaves none of the others bound:
// the admin port and the Unix socket are free again for the next start.
// (Run used to leave the admin server serving when the event hook port
// was taken.)
func TestListenLeavesNothingBoundOnFailure(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	adminAddr := free.Addr().String()
	free.Close()
	sock := filepath.Join(t.TempDir(), "bollard.sock")
	cfg := config.Server{GRPCListen: "127.0.0.1:0", UnixSocket: sock, AdminListen: adminAddr}
	hooks := &hookReceiver{cfg: config.Hooks{Listen: taken.Addr().String()}}
	if _, err := listen(config.Config{Server: cfg}, hooks, nil); err == nil || !strings.Contains(err.Error(), "listen for event hooks") {
		t.Fatalf("listen with the event hook port taken: %v", err)
	}
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the Unix socket is left behind: %v", err)
	}
	again, err := net.Listen("tcp", adminAddr)
	if err != nil {
		t.Fatalf("the admin address is still bound: %v", err)
	}
	again.Close()

	// Without event hooks: everything is bound, the socket for its group.
	ls, err := listen(config.Config{Server: cfg}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ls.close()
	if ls.addrs.GRPC == nil || ls.addrs.Admin == nil || ls.addrs.UnixSocket != sock || ls.addrs.Hooks != nil || len(ls.grpc) != 2 {
		t.Errorf("listen = %+v", ls.addrs)
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket: %v, %v", fi, err)
	}
}

// The banner's one line per sample agent: manage before read, areas in
// the catalog's order, unknown areas and levels left out.
func TestDescribeGrants(t *testing.T) {
	for _, tc := range []struct {
		grants map[string]string
		want   string
	}{
		{nil, "no grants"},
		{map[string]string{"groups": "read", "users": "read"}, "read: users, groups"},
		{map[string]string{"logs": "read", "user_lifecycle": "manage", "users": "manage"}, "manage: users, user_lifecycle; read: logs"},
		{map[string]string{"spaceships": "manage", "users": "admin"}, ""},
	} {
		if got := describeGrants(tc.grants); got != tc.want {
			t.Errorf("describeGrants(%v) = %q, want %q", tc.grants, got, tc.want)
		}
	}
}
