package web

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tus/tusd/v2/pkg/filestore"
	tushandler "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/s3store"

	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/storage"
)

// uploadStore is where tusd keeps an upload while it arrives, and how a
// finished one is handed to jobs.
type uploadStore interface {
	useIn(*tushandler.StoreComposer)
	// uploadID names a new upload for a stream.
	uploadID(streamID, filename string) string
	finished(tushandler.FileInfo) jobs.FinishedUpload
	// drop removes what tusd kept to resume an upload that is now done.
	drop(context.Context, jobs.FinishedUpload) error
	// expire removes the remains of uploads abandoned before cutoff and
	// says how many there were.
	expire(ctx context.Context, cutoff time.Time) (int, error)
}

// newUploadStore: with S3 upload storage the parts go straight to the
// bucket as one multipart upload at the source's final key, so a 20 GiB
// upload is never copied; otherwise uploads are assembled in dir, then
// copied to storage.
func newUploadStore(uploads storage.Store, dir string) uploadStore {
	if bucket, ok := uploads.(*storage.S3Store); ok {
		return bucketUploads{folderUploads{dir}, bucket}
	}
	return folderUploads{dir}
}

// folderUploads stages each upload in a file of its own in dir.
type folderUploads struct{ dir string }

func (f folderUploads) useIn(c *tushandler.StoreComposer) { filestore.New(f.dir).UseIn(c) }

func (folderUploads) uploadID(streamID, _ string) string {
	return streamID + "-" + strings.ToLower(rand.Text()[:10])
}

func (folderUploads) finished(info tushandler.FileInfo) jobs.FinishedUpload {
	return jobs.FinishedUpload{LocalPath: info.Storage["Path"]}
}

func (folderUploads) drop(_ context.Context, up jobs.FinishedUpload) error {
	os.Remove(up.LocalPath)
	os.Remove(up.LocalPath + ".info")
	return nil
}

func (f folderUploads) expire(_ context.Context, cutoff time.Time) (int, error) {
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return 0, fmt.Errorf("read upload staging: %w", err)
	}
	removed := 0
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.ModTime().Before(cutoff) {
			if os.Remove(filepath.Join(f.dir, e.Name())) == nil {
				removed++
			}
		}
	}
	return removed, nil
}

// bucketUploads writes uploads into the upload bucket at their final key;
// tusd buffers a part at a time in the folder.
type bucketUploads struct {
	folder folderUploads
	bucket *storage.S3Store
}

func (b bucketUploads) useIn(c *tushandler.StoreComposer) {
	store := s3store.New(b.bucket.Bucket(), b.bucket.Client())
	store.ObjectPrefix = b.bucket.Prefix() + jobs.UploadsFolder
	store.TemporaryDirectory = b.folder.dir
	store.UseIn(c)
}

// uploadID is the object key below the uploads folder (tusd v2 takes IDs
// with slashes).
func (bucketUploads) uploadID(streamID, filename string) string {
	return strings.TrimPrefix(jobs.UploadKey(streamID, filename), jobs.UploadsFolder)
}

func (b bucketUploads) finished(info tushandler.FileInfo) jobs.FinishedUpload {
	return jobs.FinishedUpload{Key: strings.TrimPrefix(info.Storage["Key"], b.bucket.Prefix())}
}

func (b bucketUploads) drop(ctx context.Context, up jobs.FinishedUpload) error {
	return b.bucket.Delete(ctx, up.Key+".info")
}

// expire also aborts the multipart uploads nobody finished: S3 bills for
// their parts and lists them nowhere else.
func (b bucketUploads) expire(ctx context.Context, cutoff time.Time) (int, error) {
	staged, err := b.folder.expire(ctx, cutoff)
	if err != nil {
		return staged, err
	}
	aborted, err := b.bucket.AbortUploads(ctx, jobs.UploadsFolder, cutoff)
	return staged + aborted, err
}
