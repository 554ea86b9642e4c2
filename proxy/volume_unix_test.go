//go:build unix

package proxy

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestFreeBytesReadsTheVolume: the free space read is what df reports for
// the folder's volume, within what other writers change meanwhile.
func TestFreeBytesReadsTheVolume(t *testing.T) {
	dir := t.TempDir()
	got, err := freeBytes(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := dfAvailable(t, dir)
	if diff := got - want; diff < -(64<<20) || diff > 64<<20 {
		t.Fatalf("free %d bytes, df says %d", got, want)
	}
}

// dfAvailable is df's figure of the bytes available on dir's volume.
func dfAvailable(t *testing.T, dir string) int64 {
	t.Helper()
	out, err := exec.Command("df", "-P", "-k", dir).Output()
	if err != nil {
		t.Fatalf("df: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	fields := strings.Fields(lines[len(lines)-1])
	if len(fields) < 4 {
		t.Fatalf("df: %q", out)
	}
	kib, err := strconv.ParseInt(fields[3], 10, 64)
	if err != nil {
		t.Fatalf("df: %q", out)
	}
	return kib << 10
}
