package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// startTimeout bounds how long a child may take to start serving.
const startTimeout = 60 * time.Second

// child is a process of this benchmark: the sidecar, or the simulator.
type child struct {
	name string
	addr string // where it serves
	pid  int
	stop func() error
	log  *tail
}

// startChild runs argv with env added to this process's environment, and
// returns once the child logs readyMsg (JSON on stderr), with the address
// in that line's addrField. Its standard output is discarded (the
// sidecar's audit records are written all the same); its log is kept for
// errors.
func startChild(ctx context.Context, name string, argv, env []string, readyMsg, addrField string) (*child, error) {
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	// Stopped like a pod: SIGINT, then killed if it lingers.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%s stderr: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start the %s: %w", name, err)
	}
	log := &tail{}
	ready := make(chan string, 1)
	exited := make(chan error, 1)
	go func() {
		log.scan(stderr, readyMsg, addrField, ready)
		exited <- cmd.Wait()
	}()
	// stop may be called more than once (deferred, and for its error).
	c := &child{name: name, pid: cmd.Process.Pid, log: log, stop: sync.OnceValue(func() error {
		cancel()
		err := <-exited
		if ee, ok := errors.AsType[*exec.ExitError](err); ok && ee.Exited() {
			return fmt.Errorf("the %s: %w\n%s", name, err, log)
		}
		return nil // stopped by the signal, or exited cleanly on it
	})}
	select {
	case c.addr = <-ready:
		return c, nil
	case err := <-exited:
		cancel()
		return nil, fmt.Errorf("the %s stopped before serving: %v\n%s", name, err, log)
	case <-time.After(startTimeout):
		err = fmt.Errorf("the %s did not start serving within %s\n%s", name, startTimeout, log)
	case <-ctx.Done():
		err = ctx.Err()
	}
	_ = c.stop()
	return nil, err
}

// tail keeps the last lines of a child's log, for errors.
type tail struct {
	mu    sync.Mutex
	lines []string
}

const tailLines = 40

// scan reads a child's JSON log to its end, sending the addrField of its
// first readyMsg line to ready.
func (t *tail) scan(r io.Reader, readyMsg, addrField string, ready chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		t.mu.Lock()
		t.lines = append(t.lines, line)
		if len(t.lines) > tailLines {
			t.lines = t.lines[len(t.lines)-tailLines:]
		}
		t.mu.Unlock()
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != readyMsg {
			continue
		}
		if addr, ok := rec[addrField].(string); ok && addr != "" {
			select {
			case ready <- addr:
			default:
			}
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}
