// Package jobs turns sources into HLS streams: the Manager changes a stream
// together with its objects in storage, the Worker runs the queue, and the
// transcoders (ffmpeg, Ittybit) write the HLS package.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path"
	"strings"
	"sync"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/storage"
)

// Manager creates and deletes streams and their objects.
type Manager struct {
	DB      *db.DB
	Store   storage.Store // HLS packages, under streams/
	Uploads storage.Store // sources, under uploads/; nil: Store
	Limits  Limits        // what uploads are refused; zero fields: DefaultLimits
	Log     *slog.Logger
	Worker  *Worker // optional: woken on submit, told to cancel on delete
	Cache   Purger  // optional: told to forget a deleted stream
	TempDir string  // where uploads in a bucket are downloaded to be judged; "" for the system's
	// Importer downloads sources from URLs; nil: imports are refused.
	Importer *Importer
	// DownloadsByDefault makes new streams offer an MP4 download unless
	// they say otherwise (EDGE_DOWNLOADS).
	DownloadsByDefault bool

	publishMu sync.Mutex // one playback document write at a time
	keyMu     sync.Mutex // one built-in signing key made
}

// Purger is this edge's cache: told to forget a deleted stream or an
// object rewritten or removed (a master, a download), and to read the
// playback document again when it changes.
type Purger interface {
	PurgeStream(id string)
	PurgeObject(key string)
	RefreshRules() error
}

// UploadStore is where uploaded sources are kept.
func (m *Manager) UploadStore() storage.Store {
	if m.Uploads != nil {
		return m.Uploads
	}
	return m.Store
}

// Submission asks for a stream made from an existing source.
type Submission struct {
	Title     string
	Source    string // a key in the upload storage, or its s3:// URL
	Playback  string // "public" (also "") or "signed"
	Downloads *bool  // offer an MP4 download; nil: DownloadsByDefault
	UserID    int64
}

func (m *Manager) downloads(s Submission) bool {
	if s.Downloads != nil {
		return *s.Downloads
	}
	return m.DownloadsByDefault
}

// Submit validates the source and queues a stream for transcoding.
func (m *Manager) Submit(ctx context.Context, s Submission) (*db.Stream, error) {
	source, err := m.checkSource(ctx, strings.TrimSpace(s.Source))
	if err != nil {
		return nil, err
	}
	title := strings.TrimSpace(s.Title)
	if title == "" {
		title = strings.TrimSuffix(path.Base(source), path.Ext(source))
	}
	st, err := m.create(ctx, db.NewStream{Title: title, SourceKey: source, Status: db.StatusQueued, Playback: s.Playback, Downloads: m.downloads(s), CreatedBy: s.UserID})
	if err == nil {
		m.wake()
	}
	return st, err
}

// create stores a new stream; a signed one is in the playback document
// before anything of it can be written, or it is not created.
func (m *Manager) create(ctx context.Context, in db.NewStream) (*db.Stream, error) {
	st, err := m.DB.CreateStream(ctx, in)
	if err != nil || st.Playback == db.PlaybackPublic {
		return st, err
	}
	if err := m.PublishPlayback(ctx); err != nil {
		if delErr := m.DB.DeleteStream(ctx, st.ID); delErr != nil {
			m.Log.Error("remove a stream whose policy could not be published", "stream", st.ID, "err", delErr)
		}
		return nil, err
	}
	return st, nil
}

// wake tells the worker, if there is one, that a stream was queued.
func (m *Manager) wake() {
	if m.Worker != nil {
		m.Worker.Wake()
	}
}

// streamPrefix and uploadPrefix are where a stream's HLS package and its
// uploaded source live in storage.
func streamPrefix(id string) string { return "streams/" + id + "/" }
func uploadPrefix(id string) string { return UploadsFolder + id + "/" }

// UploadsFolder holds every stream's uploaded source, one folder a stream.
const UploadsFolder = "uploads/"

// checkSource finds the source in the upload storage and returns its key.
// An s3:// URL is accepted only inside that storage, so no one can have
// edge (or Ittybit, with edge's connection) read another bucket's files.
func (m *Manager) checkSource(ctx context.Context, source string) (string, error) {
	if source == "" {
		return "", apperr.New(apperr.Invalid, "source: give a key in storage or an s3:// URL")
	}
	key := source
	if strings.HasPrefix(source, "s3://") {
		var err error
		if key, err = m.s3SourceKey(source); err != nil {
			return "", err
		}
	}
	_, err := m.UploadStore().Head(ctx, key)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return "", apperr.Errorf(apperr.Invalid, "source %q: no such object in storage", source)
	case errors.Is(err, storage.ErrInvalidKey):
		return "", apperr.Errorf(apperr.Invalid, "source %q: not a storage key", source)
	case err != nil:
		return "", fmt.Errorf("check source %q: %w", source, err)
	}
	return key, nil
}

// bucketStore is an upload storage in an S3 bucket.
type bucketStore interface {
	Bucket() string
	Prefix() string
}

// s3SourceKey maps s3://bucket/prefix/key to key in the upload storage.
func (m *Manager) s3SourceKey(source string) (string, error) {
	u, err := url.Parse(source)
	if err != nil || u.Host == "" || strings.Trim(u.Path, "/") == "" {
		return "", apperr.Errorf(apperr.Invalid, "source %q: want s3://bucket/key", source)
	}
	b, ok := m.UploadStore().(bucketStore)
	if !ok {
		return "", apperr.Errorf(apperr.Invalid, "source %q: edge keeps uploads in a folder, not a bucket; give a key in storage such as uploads/talk.mp4", source)
	}
	key, inside := strings.CutPrefix(strings.TrimPrefix(u.Path, "/"), b.Prefix())
	if u.Host != b.Bucket() || !inside || key == "" {
		return "", apperr.Errorf(apperr.Invalid, "source %q: edge reads sources only from its upload storage, s3://%s/%s",
			source, b.Bucket(), b.Prefix())
	}
	return key, nil
}

// Delete removes a stream's objects (its HLS package and its upload), then
// its row. If storage fails part-way the row stays, so the delete can be
// retried and no object is left without a stream to find it by. The
// stream's prefix is swept again later (SweepDeleted) for late output.
func (m *Manager) Delete(ctx context.Context, id string) error {
	if _, err := m.DB.Stream(ctx, id); err != nil {
		return err
	}
	if m.Worker != nil && m.Worker.Cancel(id) {
		m.Log.Info("cancelled the running transcode of a deleted stream", "stream", id)
	}
	m.cancelImport(id)
	// Marked deleted in the playback document first: from then on no edge
	// serves any of it, even output a transcoder writes after the delete.
	if err := m.DB.MarkDeleted(ctx, id); err != nil {
		return err
	}
	if err := m.PublishPlayback(ctx); err != nil {
		if undoErr := m.DB.UnmarkDeleted(ctx, id); undoErr != nil {
			m.Log.Error("unmark a stream whose delete failed", "stream", id, "err", undoErr)
		}
		return err
	}
	if err := m.deletePrefix(ctx, m.Store, streamPrefix(id)); err != nil {
		return err
	}
	if err := m.deletePrefix(ctx, m.UploadStore(), uploadPrefix(id)); err != nil {
		return err
	}
	if m.Cache != nil { // after the objects: nothing can be fetched again
		m.Cache.PurgeStream(id)
	}
	return m.DB.DeleteStream(ctx, id)
}

func (m *Manager) deletePrefix(ctx context.Context, store storage.Store, prefix string) error {
	objects, err := store.List(ctx, prefix)
	if err != nil {
		return fmt.Errorf("list %s: %w", prefix, err)
	}
	for _, o := range objects {
		if err := store.Delete(ctx, o.Key); err != nil {
			return fmt.Errorf("delete %s: %w", o.Key, err)
		}
	}
	if len(objects) > 0 {
		m.Log.Info("deleted stream objects", "prefix", prefix, "count", len(objects))
	}
	return nil
}
