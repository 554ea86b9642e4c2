package jobs

import (
	"context"
	"os/exec"
)

// toolCommand runs ffmpeg or ffprobe so that it never outlives edge: on
// Linux the kernel kills it when edge dies, even by kill -9, so no orphaned
// transcode keeps a core busy for hours.
func toolCommand(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	dieWithParent(cmd)
	return cmd
}
