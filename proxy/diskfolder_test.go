package proxy

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCacheFolderHoldingOtherFilesIsRefused: the disk tier deletes files
// in its folder, so it refuses a folder holding what edge did not write,
// with an error naming what it found, and deletes nothing there; it takes
// an empty folder, a volume's root (lost+found), its own marked folder
// and one laid out as its own from before the mark.
func TestCacheFolderHoldingOtherFilesIsRefused(t *testing.T) {
	hash := keyHash("k")
	object := hash[:2] + "/" + hash + ".7"
	for _, tc := range []struct {
		name    string
		files   []string // made before the tier opens (a trailing / makes a folder)
		refused string   // what the error names; "" when the folder is taken
		kept    []string // still there afterwards
		objects int64    // indexed when taken
	}{
		{name: "new folder"},
		{name: "a volume's root", files: []string{"lost+found/#12"}, kept: []string{"lost+found/#12"}},
		{name: "the data folder", files: []string{"edge.db", "media/streams/a/master.m3u8"}, refused: "edge.db",
			kept: []string{"edge.db", "media/streams/a/master.m3u8"}},
		{name: "a folder named like a hash folder", files: []string{"ab/README"}, refused: filepath.Join("ab", "README"), kept: []string{"ab/README"}},
		{name: "someone's tmp", files: []string{"tmp/notes.txt"}, refused: filepath.Join("tmp", "notes.txt"), kept: []string{"tmp/notes.txt"}},
		{name: "a cache from before the mark", files: []string{"tmp/fill-123", object, object + ".meta"}, objects: 1},
		{name: "marked, with a file dropped in", files: []string{cacheMark, "notes.txt", "ab/notes.txt"}, kept: []string{"notes.txt", "ab/notes.txt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cache")
			for _, f := range tc.files {
				writeFile(t, filepath.Join(dir, f), contentOf(f))
			}
			d, err := openDiskTier(dir, 1<<20, slog.New(slog.NewTextHandler(io.Discard, nil)))
			switch {
			case tc.refused != "":
				if !errors.Is(err, errForeignFolder) || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("err = %v, want one naming %s", err, tc.refused)
				}
			case err != nil:
				t.Fatal(err)
			default:
				if _, err := os.Stat(filepath.Join(dir, cacheMark)); err != nil {
					t.Fatalf("the folder taken is not marked: %v", err)
				}
				if _, n := d.index.size(); n != tc.objects {
					t.Fatalf("%d objects indexed, want %d", n, tc.objects)
				}
			}
			for _, f := range tc.kept {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("%s was deleted: %v", f, err)
				}
			}
		})
	}
}

// contentOf is a file's content: a meta file names its key.
func contentOf(name string) string {
	if strings.HasSuffix(name, ".meta") {
		return `{"key":"k","size":1,"etag":"\"e\""}`
	}
	return "x"
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
