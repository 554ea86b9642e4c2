//go:build !linux

package jobs

import "os/exec"

// Elsewhere there is no parent-death signal; edge's own stop still
// cancels the tool through its context.
func dieWithParent(*exec.Cmd) {}
