package storagetest

import (
	"context"
	"strings"
	"testing"

	"github.com/edgehls/edge/storage"
)

// NewFileStore makes a local-folder store in a temporary folder holding the
// given objects (key → content).
func NewFileStore(t testing.TB, objects map[string]string) *storage.FileStore {
	t.Helper()
	fs, err := storage.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range objects {
		if err := fs.Put(context.Background(), k, strings.NewReader(v), int64(len(v))); err != nil {
			t.Fatal(err)
		}
	}
	return fs
}
