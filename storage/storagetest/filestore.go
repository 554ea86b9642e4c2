package storagetest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgehls/edge/storage"
)

// NewFileStore makes a local-folder store in a temporary folder holding the
// given objects (key → content). They are settled media, last changed an
// hour ago: the proxy does not keep an object modified a moment ago.
func NewFileStore(t testing.TB, objects map[string]string) *storage.FileStore {
	t.Helper()
	dir := t.TempDir()
	fs, err := storage.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	settled := time.Now().Add(-time.Hour)
	for k, v := range objects {
		if err := fs.Put(context.Background(), k, strings.NewReader(v), int64(len(v))); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(k)), settled, settled); err != nil {
			t.Fatal(err)
		}
	}
	return fs
}
