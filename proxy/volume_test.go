package proxy

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSizeToVolume(t *testing.T) {
	for _, tc := range []struct {
		name             string
		free, held, want int64
	}{
		{"a large volume: the cap", 500 << 30, 0, 10 << 30},
		{"a 1 GB volume, empty: half of it", 1e9, 0, 5e8},
		{"what the tier holds is room it has", 200 << 20, 300 << 20, 250 << 20},
		{"a volume filled since: the tier gives up half", 0, 300 << 20, 150 << 20},
		{"a full volume", 0, 0, 0},
	} {
		if got := sizeToVolume(tc.free, tc.held); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestDiskTierIsSizedToItsVolume: with no bound configured, a tier whose
// volume filled up since it last ran gives back half of what it held at
// start-up, deleting the files, and one whose volume cannot be read takes
// the 10 GiB default.
func TestDiskTierIsSizedToItsVolume(t *testing.T) {
	dir := t.TempDir()
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	d, err := openDiskTier(dir, 1<<20, log)
	if err != nil {
		t.Fatal(err)
	}
	const size = 10_000
	for i := range 10 {
		storeObject(t, d, fmt.Sprintf("streams/a/segment-%d.ts", i), size)
	}
	defer func(f func(string) (int64, error)) { volumeFree = f }(volumeFree)
	volumeFree = func(string) (int64, error) { return 0, nil }
	d, err = openDiskTier(dir, 0, log)
	if err != nil {
		t.Fatal(err)
	}
	held := 10 * diskWeight(size)
	if got := d.bound(); got != held/2 {
		t.Fatalf("bound %d, want %d", got, held/2)
	}
	if bytes, objects := d.index.size(); bytes > held/2 || objects != 5 {
		t.Fatalf("kept %d objects, %d bytes", objects, bytes)
	}
	if n := bodyFiles(t, dir); n != 5 {
		t.Fatalf("%d body files left, want 5", n)
	}
	if !strings.Contains(logs.String(), "disk cache sized to its volume") {
		t.Fatalf("the bound chosen is not logged:\n%s", logs.String())
	}

	volumeFree = func(string) (int64, error) { return 0, errors.New("statfs: not supported") }
	if d, err = openDiskTier(dir, 0, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatalf("unreadable volume: %v", err)
	}
	if d.bound() != defaultDiskMax {
		t.Fatalf("unreadable volume: bound %d", d.bound())
	}
}

func storeObject(t *testing.T, d *diskTier, key string, size int) {
	t.Helper()
	tmp, err := d.tempFile()
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.Close()
	tmp.Write(make([]byte, size))
	o := &diskObject{Key: key, Size: int64(size), Fetched: time.Now()}
	if err := d.prepare(tmp, o); err != nil {
		t.Fatal(err)
	}
	if err := d.place(tmp.Name(), o, 0); err != nil {
		t.Fatal(err)
	}
}

func bodyFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && e.Name() != cacheMark {
			n++
		}
		return nil
	})
	return n
}

// TestLoweredBoundGrowsBack: a bound a full volume lowered stays lowered
// while the volume is still full, grows back with what the volume frees
// (less a tenth), no sooner than regrowEvery after the last look, and
// never past the bound the tier began with.
func TestLoweredBoundGrowsBack(t *testing.T) {
	const ceiling = 1 << 20
	d, err := openDiskTier(t.TempDir(), ceiling, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	d.now = func() time.Time { return now }
	for i := range 10 {
		storeObject(t, d, fmt.Sprintf("streams/a/segment-%d.ts", i), 10_000)
	}
	defer func(f func(string) (int64, error)) { volumeFree = f }(volumeFree)
	free := int64(0)
	volumeFree = func(string) (int64, error) { return free, nil }
	if !d.writeFailed(syscall.ENOSPC) {
		t.Fatal("no room made")
	}
	lowered := d.bound()
	held, _ := d.index.size()
	for _, step := range []struct {
		name  string
		after time.Duration
		free  int64
		want  int64
	}{
		{"the volume still full", regrowEvery, 0, lowered},
		{"too soon after the last look", regrowEvery / 2, 500_000, lowered},
		{"room again", regrowEvery / 2, 500_000, held + 450_000},
		{"more room than the bound it began with", regrowEvery, 10 << 20, ceiling},
	} {
		now, free = now.Add(step.after), step.free
		d.regrow()
		if got := d.bound(); got != step.want {
			t.Fatalf("%s: bound %d, want %d", step.name, got, step.want)
		}
	}
	if d.regrowAt.Load() != 0 {
		t.Fatal("a tier back to its bound still looks at its volume")
	}
}
