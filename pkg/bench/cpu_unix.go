//go:build unix

package bench

import (
	"syscall"
	"time"
)

// selfCPU is this process's user and system time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return unknown
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
