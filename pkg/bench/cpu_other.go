//go:build !unix

package bench

import "time"

// selfCPU is unknown here: the load's column shows 0.
func selfCPU() time.Duration { return unknown }
