package main

import (
	"fmt"
	"io"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

// printVersion is `sidecar version`.
func printVersion(stdout io.Writer) error {
	fmt.Fprintln(stdout, "bollard", version)
	return nil
}
