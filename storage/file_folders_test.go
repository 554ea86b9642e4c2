package storage_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/edgehls/edge/storage"
)

// A deleted video's folders go with its last object, as its prefix does in
// S3; a folder that still holds something stays.
func TestFileStoreDeleteRemovesEmptiedFolders(t *testing.T) {
	dir := t.TempDir()
	s, err := storage.NewFileStore(dir)
	must(t, err)
	ctx := context.Background()
	for _, k := range []string{"streams/a/720p/segment-0.ts", "streams/a/master.m3u8", "streams/b/master.m3u8"} {
		must(t, s.Put(ctx, k, strings.NewReader("x"), 1))
	}

	must(t, s.Delete(ctx, "streams/a/720p/segment-0.ts"))
	exists(t, filepath.Join(dir, "streams/a/720p"), false)
	exists(t, filepath.Join(dir, "streams/a"), true) // master.m3u8 is still there

	must(t, s.Delete(ctx, "streams/a/master.m3u8"))
	exists(t, filepath.Join(dir, "streams/a"), false)
	exists(t, filepath.Join(dir, "streams/b/master.m3u8"), true)

	must(t, s.Delete(ctx, "streams/b/master.m3u8"))
	exists(t, filepath.Join(dir, "streams"), false)
	exists(t, dir, true) // the store's own folder stays

	must(t, s.Delete(ctx, "streams/never/was.ts")) // nothing to delete, as before
	if err := s.Put(ctx, "streams/c/720p/segment-0.ts", iotest.ErrReader(errors.New("source went away")), -1); err == nil {
		t.Fatal("a Put whose body failed succeeded")
	}
	exists(t, filepath.Join(dir, "streams"), false) // nor does a write that failed leave one
	must(t, s.Put(ctx, "streams/a/master.m3u8", strings.NewReader("x"), 1))
	exists(t, filepath.Join(dir, "streams/a/master.m3u8"), true)
}

// Writing into a folder while the last object of it is deleted: the
// delete may take the empty folder away between a Put's making it and its
// writing there, and the Put must still land.
func TestFileStorePutBesideADeleteLands(t *testing.T) {
	dir := t.TempDir()
	s, err := storage.NewFileStore(dir)
	must(t, err)
	ctx := context.Background()
	const writers, rounds = 8, 200
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- putAndDelete(ctx, s, fmt.Sprintf("streams/x/720p/segment-%d.ts", w), rounds)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	exists(t, filepath.Join(dir, "streams"), false)
}

func putAndDelete(ctx context.Context, s storage.Store, key string, rounds int) error {
	for range rounds {
		if err := s.Put(ctx, key, strings.NewReader("x"), 1); err != nil {
			return err
		}
		if err := s.Delete(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

func exists(t *testing.T, path string, want bool) {
	t.Helper()
	_, err := os.Stat(path)
	if got := err == nil; got != want {
		t.Fatalf("%s exists: %v, want %v (%v)", path, got, want, err)
	}
}
