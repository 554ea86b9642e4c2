package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/playback"
	"github.com/edgehls/edge/storage"
	"github.com/edgehls/edge/storage/storagetest"
)

// failingPuts is a real store whose writes fail, like a bucket policy
// without s3:PutObject.
type failingPuts struct{ storage.Store }

func (failingPuts) Put(context.Context, string, io.Reader, int64) error {
	return errors.New("access denied")
}

func newManager(t *testing.T, store storage.Store) (*jobs.Manager, *db.DB) {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "edge.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return &jobs.Manager{DB: d, Store: store, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, d
}

func readRules(t *testing.T, store storage.Store) *playback.Rules {
	t.Helper()
	obj, err := store.Get(context.Background(), playback.DocumentKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	data, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := playback.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

// A deleted stream's prefix is swept again on a schedule, so output a
// transcoder writes after the delete does not stay in the bucket; after
// the last sweep the stream leaves the document.
func TestDeletedStreamsAreSweptForLateOutput(t *testing.T) {
	ctx := context.Background()
	fs := storagetest.NewFileStore(t, map[string]string{"uploads/x/a.mov": "x"})
	m, d := newManager(t, fs)
	now := time.Now()
	d.SetClock(func() time.Time { return now })
	st, err := m.Submit(ctx, jobs.Submission{Source: "uploads/x/a.mov"})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, st.ID); err != nil {
		t.Fatal(err)
	}
	if !readRules(t, fs).Stream(st.ID).Deleted {
		t.Fatal("the document does not mark the deleted stream")
	}
	late := "streams/" + st.ID + "/720p/segment-9.ts"
	for i, after := range db.DeletedStreamSweeps {
		fs.Put(ctx, late, strings.NewReader("late"), 4)
		now = now.Add(after - time.Second)
		if err := m.SweepDeleted(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := fs.Head(ctx, late); err != nil {
			t.Fatalf("sweep %d ran early: %v", i, err)
		}
		now = now.Add(time.Second)
		if err := m.SweepDeleted(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := fs.Head(ctx, late); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("sweep %d left the late output: %v", i, err)
		}
		now = now.Add(-after) // the schedule counts from the delete
	}
	if readRules(t, fs).Stream(st.ID).Deleted {
		t.Fatal("the stream is still in the document after its last sweep")
	}
}

// When the document cannot be published nothing changes: a signed stream
// is not created public, and a delete leaves the stream as it was.
func TestNothingChangesWhenTheDocumentCannotBePublished(t *testing.T) {
	ctx := context.Background()
	fs := storagetest.NewFileStore(t, map[string]string{"uploads/x/a.mov": "x"})
	m, d := newManager(t, failingPuts{fs})
	if _, err := m.Submit(ctx, jobs.Submission{Source: "uploads/x/a.mov", Playback: "signed"}); err == nil {
		t.Fatal("a signed stream was made without its rule published")
	}
	if list, _, _ := d.ListStreams(ctx, db.StreamFilter{}); len(list) != 0 {
		t.Fatalf("the refused stream is listed: %v", list)
	}
	st, err := m.Submit(ctx, jobs.Submission{Source: "uploads/x/a.mov"})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, st.ID); err == nil {
		t.Fatal("deleted without marking it deleted for the other edges")
	}
	if ids, _ := d.DeletedStreams(ctx); len(ids) != 0 {
		t.Fatalf("a failed delete left the stream marked deleted: %v", ids)
	}
	if _, err := d.Stream(ctx, st.ID); err != nil {
		t.Fatalf("a failed delete removed the row: %v", err)
	}
}

// A second edge database writing the same storage cannot replace the
// first one's rules with its own.
func TestAnotherDatabaseCannotOverwriteTheDocument(t *testing.T) {
	ctx := context.Background()
	fs := storagetest.NewFileStore(t, map[string]string{"uploads/x/a.mov": "x"})
	first, _ := newManager(t, fs)
	st, err := first.Submit(ctx, jobs.Submission{Source: "uploads/x/a.mov", Playback: "signed"})
	if err != nil {
		t.Fatal(err)
	}
	second, _ := newManager(t, fs)
	if err := second.PublishPlayback(ctx); !errors.Is(err, jobs.ErrOtherOwner) {
		t.Fatalf("second database publishing: %v", err)
	}
	if !readRules(t, fs).Stream(st.ID).Signed {
		t.Fatal("the first database's signed stream lost its rule")
	}
	if err := first.PublishPlayback(ctx); err != nil {
		t.Fatalf("the owner publishing again: %v", err)
	}
}
