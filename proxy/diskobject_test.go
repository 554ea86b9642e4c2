package proxy

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAnUpgradeKeepsTheCacheWarm: a disk tier of the layout before the
// footer (each body with a .meta file beside it) is taken in: every whole
// object is indexed and becomes one file, which reads back as it was; a
// body without its meta and a meta without its body are deleted.
func TestAnUpgradeKeepsTheCacheWarm(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	oldObject := func(key, body string, withMeta bool) string {
		h := keyHash(key)
		path := filepath.Join(dir, h[:2], h+".7")
		writeFile(t, path, body)
		if withMeta {
			writeFile(t, path+".meta", fmt.Sprintf(`{"key":%q,"size":%d,"etag":"\"e\""}`, key, len(body)))
		}
		return path
	}
	kept := map[string]string{"streams/a/segment-0.ts": strings.Repeat("a", 5000), "streams/a/segment-1.ts": "b"}
	for key, body := range kept {
		oldObject(key, body, true)
	}
	noMeta := oldObject("streams/a/segment-2.ts", "c", false)
	noBody := oldObject("streams/a/segment-3.ts", "d", true)
	os.Remove(noBody)
	writeFile(t, filepath.Join(dir, cacheMark), cacheMarkText)

	d, err := openDiskTier(dir, 1<<20, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, n := d.index.size(); n != int64(len(kept)) {
		t.Fatalf("%d objects indexed, want %d", n, len(kept))
	}
	for key, body := range kept {
		o, file := d.open(key)
		if file == nil {
			t.Fatalf("%s: not kept", key)
		}
		got, _ := io.ReadAll(io.LimitReader(file, o.Size))
		file.Close()
		again, err := readObject(o.body)
		if string(got) != body || err != nil || again.Key != key || again.ETag != `"e"` {
			t.Fatalf("%s: %d bytes, read back %+v, %v", key, len(got), again, err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*", "*"))
	for _, f := range left {
		if strings.HasSuffix(f, ".meta") || f == noMeta {
			t.Errorf("%s was left", f)
		}
	}
}
