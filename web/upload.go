package web

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tus/tusd/v2/pkg/filestore"
	tushandler "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
	"github.com/tus/tusd/v2/pkg/s3store"
	expslog "golang.org/x/exp/slog"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/storage"
)

const uploadsPath = "/uploads/"

// newUploads is the tus 1.0.0 endpoint for resumable uploads. A finished
// upload is handed to jobs.Manager, which judges it, keeps it at
// uploads/<stream>/<name> in the upload storage and queues the stream.
func (s *Server) newUploads(dir string, maxBytes int64) (http.Handler, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("upload staging folder: %w", err)
	}
	s.stagingDir = dir
	composer := tushandler.NewStoreComposer()
	s.useUploadStore(composer, dir)
	memorylocker.New().UseIn(composer)
	h, err := tushandler.NewHandler(tushandler.Config{
		BasePath:                  uploadsPath,
		StoreComposer:             composer,
		MaxSize:                   maxBytes,
		DisableDownload:           true,
		PreUploadCreateCallback:   s.beforeUpload,
		PreFinishResponseCallback: s.afterUpload,
		// tusd logs every request at INFO; edge keeps its warnings only.
		Logger: expslog.New(expslog.NewTextHandler(os.Stderr, &expslog.HandlerOptions{Level: expslog.LevelWarn})),
	})
	if err != nil {
		return nil, fmt.Errorf("tus handler: %w", err)
	}
	// tusd routes relative to its base path, which it expects stripped.
	return http.StripPrefix(strings.TrimSuffix(uploadsPath, "/"), h), nil
}

// useUploadStore picks tusd's store. With S3 upload storage the parts go
// straight to the bucket as one multipart upload at the source's final key
// (tusd buffers a part at a time in dir), so a 20 GiB upload is never
// copied; otherwise uploads are assembled in dir, then copied to storage.
func (s *Server) useUploadStore(composer *tushandler.StoreComposer, dir string) {
	bucket, ok := s.jobs.UploadStore().(*storage.S3Store)
	if !ok {
		filestore.New(dir).UseIn(composer)
		return
	}
	store := s3store.New(bucket.Bucket(), bucket.Client())
	store.ObjectPrefix = bucket.Prefix() + jobs.UploadsFolder
	store.TemporaryDirectory = dir
	store.UseIn(composer)
	s.s3Uploads = bucket
}

// beforeUpload admits a creation for a stream that waits for its upload,
// by its owner's token or session, and names the upload after the stream.
func (s *Server) beforeUpload(hook tushandler.HookEvent) (tushandler.HTTPResponse, tushandler.FileInfoChanges, error) {
	none := tushandler.FileInfoChanges{}
	req := hook.HTTPRequest
	if _, err := s.userFromHeaders(hook.Context, req.Header); err != nil {
		return tushandler.HTTPResponse{}, none, tushandler.NewError("ERR_UNAUTHORIZED", err.Error(), http.StatusUnauthorized)
	}
	u, _ := url.Parse(req.URI)
	id := u.Query().Get("stream")
	st, err := s.db.Stream(hook.Context, id)
	switch {
	case errors.Is(err, db.ErrNotFound):
		return tushandler.HTTPResponse{}, none, tushandler.NewError("ERR_STREAM_NOT_FOUND", "no stream "+id+": create one with POST /api/v1/streams", http.StatusNotFound)
	case err != nil:
		return tushandler.HTTPResponse{}, none, err
	case st.Status != db.StatusUploading:
		return tushandler.HTTPResponse{}, none, tushandler.NewError("ERR_STREAM_NOT_WAITING", "stream "+id+" already has its source", http.StatusConflict)
	}
	name := hook.Upload.MetaData["filename"]
	meta := tushandler.MetaData{"stream": id, "filename": name, "filetype": hook.Upload.MetaData["filetype"]}
	return tushandler.HTTPResponse{}, tushandler.FileInfoChanges{ID: s.uploadID(id, name), MetaData: meta}, nil
}

// uploadID names an upload: in S3, its object key below the uploads
// folder; on disk, a staging file of its own.
func (s *Server) uploadID(streamID, filename string) string {
	if s.s3Uploads != nil {
		return strings.TrimPrefix(jobs.UploadKey(streamID, filename), jobs.UploadsFolder)
	}
	return streamID + "-" + strings.ToLower(rand.Text()[:10])
}

// afterUpload hands the finished file over before the client hears 204.
func (s *Server) afterUpload(hook tushandler.HookEvent) (tushandler.HTTPResponse, error) {
	info := hook.Upload
	up := jobs.FinishedUpload{StreamID: info.MetaData["stream"], Filename: info.MetaData["filename"]}
	if s.s3Uploads != nil {
		up.Key = strings.TrimPrefix(info.Storage["Key"], s.s3Uploads.Prefix())
	} else {
		up.LocalPath = info.Storage["Path"]
	}
	if err := s.jobs.AcceptUpload(hook.Context, up); err != nil {
		s.log.Error("accept upload", "stream", up.StreamID, "err", err)
		return tushandler.HTTPResponse{}, tushandler.NewError("ERR_STORE_FAILED", "the upload arrived but could not be stored; retry", http.StatusInternalServerError)
	}
	s.dropTusState(hook.Context, up)
	return tushandler.HTTPResponse{}, nil
}

// dropTusState removes what tusd kept to resume an upload that is now done.
func (s *Server) dropTusState(ctx context.Context, up jobs.FinishedUpload) {
	if up.Key != "" {
		if err := s.s3Uploads.Delete(ctx, up.Key+".info"); err != nil {
			s.log.Warn("drop finished upload's tus info", "key", up.Key, "err", err)
		}
		return
	}
	os.Remove(up.LocalPath)
	os.Remove(up.LocalPath + ".info")
}

// userFromHeaders authenticates a request by Bearer token or session
// cookie, as the API and the portal do.
func (s *Server) userFromHeaders(ctx context.Context, h http.Header) (*db.User, error) {
	if secret, ok := bearerToken(h); ok {
		u, err := s.db.UserByAPIToken(ctx, secret)
		if errors.Is(err, db.ErrNotFound) {
			return nil, errors.New("the token is not valid")
		}
		return u, err
	}
	sess, err := s.sessionFrom(ctx, h)
	if err != nil {
		return nil, err
	}
	if sess == nil {
		return nil, errors.New("sign in, or send Authorization: Bearer <token>")
	}
	return &sess.User, nil
}

// uploadPath is the tus creation URL, below the public URL, for a stream.
func uploadPath(streamID string) string { return uploadsPath + "?stream=" + streamID }

// ExpireUploads forgets uploads abandoned before cutoff: their staged
// bytes, and the streams that were waiting for them.
func (s *Server) ExpireUploads(ctx context.Context, cutoff time.Time) error {
	entries, err := os.ReadDir(s.stagingDir)
	if err != nil {
		return fmt.Errorf("read upload staging: %w", err)
	}
	removed := 0
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.ModTime().Before(cutoff) {
			if os.Remove(filepath.Join(s.stagingDir, e.Name())) == nil {
				removed++
			}
		}
	}
	if s.s3Uploads != nil {
		n, err := s.s3Uploads.AbortUploads(ctx, jobs.UploadsFolder, cutoff)
		if err != nil {
			return err
		}
		removed += n
	}
	ids, err := s.db.StaleUploads(ctx, cutoff)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.jobs.Delete(ctx, id); err != nil && !errors.Is(err, db.ErrNotFound) {
			return fmt.Errorf("expire upload %s: %w", id, err)
		}
	}
	if removed+len(ids) > 0 {
		s.log.Info("expired abandoned uploads", "staged", removed, "streams", len(ids))
	}
	return nil
}
