package hlstest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// KillingTool puts a tool (ffprobe, ffmpeg) first on PATH that kills
// itself with SIGKILL the first `kills` times it runs (as the OOM killer
// would), then runs the real one. It returns how to read the number of runs.
func KillingTool(t testing.TB, name string, kills int) func() int {
	t.Helper()
	real, err := exec.LookPath(name)
	if err != nil {
		t.Fatal(name + " not found: run `make test-deps`")
	}
	dir := t.TempDir()
	count := filepath.Join(dir, "runs")
	script := fmt.Sprintf(`#!/bin/sh
echo x >> %[1]q
if [ "$(wc -l < %[1]q)" -le %[2]d ]; then kill -9 $$; fi
exec %[3]q "$@"
`, count, kills, real)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return func() int {
		b, _ := os.ReadFile(count)
		return strings.Count(string(b), "\n")
	}
}
