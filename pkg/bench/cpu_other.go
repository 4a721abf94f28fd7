//go:build !unix

package bench

import "time"

// selfCPU is unknown here: the table leaves the load's column out.
func selfCPU() time.Duration { return 0 }
