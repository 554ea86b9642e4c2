package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/storage"
	"github.com/edgehls/edge/storage/storagetest"
)

// failingDeletes is a real store whose deletes fail, like a bucket policy
// without s3:DeleteObject.
type failingDeletes struct{ storage.Store }

func (failingDeletes) Delete(context.Context, string) error { return errors.New("access denied") }

func TestDeleteKeepsTheStreamWhenStorageFails(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "edge.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fs := storagetest.NewFileStore(t, map[string]string{"uploads/x/a.mov": "x"})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	broken := &jobs.Manager{DB: d, Store: failingDeletes{fs}, Log: log}
	st, err := broken.Submit(ctx, jobs.Submission{Source: "uploads/x/a.mov"})
	if err != nil {
		t.Fatal(err)
	}
	fs.Put(ctx, "streams/"+st.ID+"/master.m3u8", strings.NewReader("x"), 1)

	if err := broken.Delete(ctx, st.ID); err == nil || !strings.Contains(err.Error(), "access denied") {
		t.Fatalf("delete with failing storage: %v", err)
	}
	if _, err := d.Stream(ctx, st.ID); err != nil {
		t.Fatalf("the stream row went although its objects stayed: %v", err)
	}
	// Once storage works, the same delete goes through.
	fixed := &jobs.Manager{DB: d, Store: fs, Log: log}
	if err := fixed.Delete(ctx, st.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Head(ctx, "streams/"+st.ID+"/master.m3u8"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("object left: %v", err)
	}
}

// TestSeparateUploadStorage: sources are looked up and deleted in the
// upload storage, HLS packages in the stream storage.
func TestSeparateUploadStorage(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "edge.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	streams := storagetest.NewFileStore(t, map[string]string{"uploads/only-in-streams.mov": "x"})
	uploads := storagetest.NewFileStore(t, map[string]string{"uploads/talk.mov": "x"})
	m := &jobs.Manager{DB: d, Store: streams, Uploads: uploads, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := m.Submit(ctx, jobs.Submission{Source: "uploads/only-in-streams.mov"}); !isInvalid(err) {
		t.Fatalf("a source outside the upload storage was accepted: %v", err)
	}
	st, err := m.Submit(ctx, jobs.Submission{Source: "uploads/talk.mov"})
	if err != nil {
		t.Fatal(err)
	}
	uploads.Put(ctx, "uploads/"+st.ID+"/talk.mov", strings.NewReader("x"), 1)
	streams.Put(ctx, "streams/"+st.ID+"/master.m3u8", strings.NewReader("x"), 1)
	if err := m.Delete(ctx, st.ID); err != nil {
		t.Fatal(err)
	}
	for store, key := range map[storage.Store]string{uploads: "uploads/" + st.ID + "/talk.mov", streams: "streams/" + st.ID + "/master.m3u8"} {
		if _, err := store.Head(ctx, key); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s left after delete: %v", key, err)
		}
	}
}

// isInvalid says whether err is a refusal the API answers 422 to.
func isInvalid(err error) bool {
	e, ok := apperr.As(err)
	return ok && e.Kind == apperr.Invalid
}
