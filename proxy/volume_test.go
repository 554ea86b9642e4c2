package proxy

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
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
	held := int64(10 * (size + 512))
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
	tmp.Write(make([]byte, size))
	tmp.Close()
	o := &diskObject{Key: key, Size: int64(size), Fetched: time.Now()}
	if err := d.prepare(tmp.Name(), o); err != nil {
		t.Fatal(err)
	}
	if err := d.place(tmp.Name(), o); err != nil {
		t.Fatal(err)
	}
}

func bodyFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && !strings.HasSuffix(path, ".meta") {
			n++
		}
		return nil
	})
	return n
}
