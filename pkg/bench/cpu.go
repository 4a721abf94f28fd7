package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// CPU is the processor time each process of a run spent, per call: the
// load generator (this process), the sidecar and the Okta simulator. Zero
// where it could not be read (a system without /proc).
// With redis, Bollard's time includes the redis-server's: the store is part
// of what the sidecar costs.
type CPU struct {
	Load, Bollard, Okta time.Duration
}

// Total is the time all three spent on a call: on a machine whose cores
// the run keeps busy, the rate of calls is at most cores / Total.
func (c CPU) Total() time.Duration { return c.Load + c.Bollard + c.Okta }

// Known reports whether the sidecar's and the simulator's times were read.
func (c CPU) Known() bool { return c.Bollard > 0 || c.Okta > 0 }

// cpuClock reads the processor time so far of this process and of the
// children: the sidecar, the simulator and the redis-server (0: none).
type cpuClock struct{ sidecar, simulator, store int }

// cpuReading is the time of each process so far; unknown (-1) where it
// could not be read.
type cpuReading struct{ self, sidecar, simulator, store time.Duration }

const unknown time.Duration = -1

func (c cpuClock) read() cpuReading {
	return cpuReading{self: selfCPU(), sidecar: procCPU(c.sidecar), simulator: procCPU(c.simulator), store: procCPU(c.store)}
}

// perCall is what each process spent between two readings, over calls.
func perCall(before, after cpuReading, calls int64) CPU {
	if calls <= 0 {
		return CPU{}
	}
	each := func(a, b time.Duration) time.Duration {
		if a == unknown || b == unknown || b < a {
			return 0
		}
		return (b - a) / time.Duration(calls)
	}
	return CPU{Load: each(before.self, after.self), Bollard: each(before.sidecar, after.sidecar) + each(before.store, after.store),
		Okta: each(before.simulator, after.simulator)}
}

// clockTick is Linux's USER_HZ, the unit of /proc/PID/stat's times: 100 on
// every architecture Go supports.
const clockTick = 10 * time.Millisecond

// procCPU reads a process's user and system time from /proc/PID/stat
// (fields 14 and 15); unknown when it cannot.
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return unknown
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return unknown
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime from a /proc/PID/stat line. The
// command name (field 2) is in parentheses and may hold spaces, so fields
// are counted from the last ')'. A process that has not run a whole tick
// yet has 0; a line that is not one is unknown.
func parseStatCPU(stat string) time.Duration {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return unknown
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return unknown
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return unknown
	}
	return time.Duration(utime+stime) * clockTick
}
