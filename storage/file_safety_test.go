package storage_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgehls/edge/storage"
)

// TestRemoveTemporaries: the temporary file of a write cut short (edge
// killed mid-copy) is invisible to List, so a stream's delete would never
// find it; RemoveTemporaries deletes those older than asked, and nothing
// else.
func TestRemoveTemporaries(t *testing.T) {
	dir := t.TempDir()
	s, err := storage.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s.Put(ctx, "uploads/a/talk.mp4", strings.NewReader("whole"), 5)
	old := filepath.Join(dir, "uploads", "a", "talk.mp4.tmp-1234")
	fresh := filepath.Join(dir, "streams", "b", "720p", "segment-0.ts.tmp-5678")
	os.MkdirAll(filepath.Dir(fresh), 0o755)
	os.WriteFile(old, []byte("part"), 0o644)
	os.WriteFile(fresh, []byte("part"), 0o644)
	os.Chtimes(old, time.Now().Add(-2*time.Hour), time.Now().Add(-2*time.Hour))
	if list, _ := s.List(ctx, "uploads/a/"); len(list) != 1 {
		t.Fatalf("List shows temporaries: %v", list)
	}
	n, err := s.RemoveTemporaries(time.Now().Add(-time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("removed %d (%v), want the hour-old one", n, err)
	}
	if _, err := os.Stat(old); err == nil {
		t.Fatal("the old temporary is still there")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatal("a write that may still be under way was removed")
	}
	if _, err := s.Head(ctx, "uploads/a/talk.mp4"); err != nil {
		t.Fatalf("a whole object went too: %v", err)
	}
}

// TestLinkOutOfTheFolderIsNotFound: a symlink inside the media folder that
// leads out of it is refused as a missing object (404 to a viewer), never
// followed and never reported as an origin failure.
func TestLinkOutOfTheFolderIsNotFound(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.ts")
	os.WriteFile(outside, []byte("secret"), 0o644)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "streams", "x"), 0o755)
	os.Symlink(outside, filepath.Join(dir, "streams", "x", "leak.ts"))
	s, err := storage.NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), "streams/x/leak.ts", nil); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a link out of the folder: %v, want not found", err)
	}
}
