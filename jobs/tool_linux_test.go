package jobs

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/edgehls/edge/internal/waitfor"
)

// TestToolsDieWithEdge: edge killed with -9 in the middle of a transcode
// takes its ffmpeg with it, instead of leaving it to run for hours.
func TestToolsDieWithEdge(t *testing.T) {
	if os.Getenv("EDGE_TEST_TOOL_PARENT") == "1" {
		runToolParent()
		return
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg not found: run `make test-deps`")
	}
	parent := exec.Command(os.Args[0], "-test.run=^TestToolsDieWithEdge$")
	parent.Env = append(os.Environ(), "EDGE_TEST_TOOL_PARENT=1")
	out, _ := parent.StdoutPipe()
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	pid, convErr := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || convErr != nil {
		parent.Process.Kill()
		t.Fatalf("the parent did not report ffmpeg's pid: %q %v", line, err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if !alive(pid) {
		t.Fatalf("ffmpeg %d was not running", pid)
	}
	parent.Process.Signal(syscall.SIGKILL)
	parent.Wait()
	waitfor.True(t, "ffmpeg to die with its parent", func() bool { return !alive(pid) })
}

// runToolParent stands in for edge: it starts a never-ending ffmpeg the
// way the runner does, says its pid, and waits to be killed.
func runToolParent() {
	cmd := toolCommand(context.Background(), "ffmpeg", "-nostdin", "-v", "error", "-re",
		"-f", "lavfi", "-i", "anullsrc", "-f", "null", "-")
	if err := cmd.Start(); err != nil {
		fmt.Println("start:", err)
		os.Exit(1)
	}
	fmt.Println(cmd.Process.Pid)
	cmd.Wait()
	os.Exit(0)
}

// alive: the process exists and is not a zombie waiting to be reaped.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}
