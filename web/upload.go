package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	tushandler "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
	expslog "golang.org/x/exp/slog"

	"github.com/edgehls/edge/db"
)

const uploadsPath = "/uploads/"

// newUploads is the tus 1.0.0 endpoint for resumable uploads. A finished
// upload is handed to jobs.Manager, which judges it, keeps it at
// uploads/<stream>/<name> in the upload storage and queues the stream.
func (s *Server) newUploads(dir string, maxBytes int64) (http.Handler, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("upload staging folder: %w", err)
	}
	s.uploadStore = newUploadStore(s.jobs.UploadStore(), dir)
	composer := tushandler.NewStoreComposer()
	s.uploadStore.useIn(composer)
	s.tusStore = composer.Core
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
	if hook.Upload.SizeIsDeferred {
		return tushandler.HTTPResponse{}, none, tushandler.NewError("ERR_LENGTH_REQUIRED",
			"send the file's length with Upload-Length: edge does not take uploads of unknown length", http.StatusBadRequest)
	}
	name := hook.Upload.MetaData["filename"]
	meta := tushandler.MetaData{"stream": id, "filename": name, "filetype": hook.Upload.MetaData["filetype"]}
	return tushandler.HTTPResponse{}, tushandler.FileInfoChanges{ID: s.uploadStore.uploadID(id, name), MetaData: meta}, nil
}

// afterUpload hands the finished file over before the client hears 204.
// The upload is recorded first, so if the hand-over fails or edge dies
// during it, HandOverPendingUploads takes it up again.
func (s *Server) afterUpload(hook tushandler.HookEvent) (tushandler.HTTPResponse, error) {
	streamID := hook.Upload.MetaData["stream"]
	err := s.db.SetUploadID(hook.Context, streamID, hook.Upload.ID)
	if err == nil {
		err = s.handOver(hook.Context, hook.Upload)
	}
	if err != nil {
		s.log.Error("accept upload", "stream", streamID, "err", err)
		return tushandler.HTTPResponse{}, tushandler.NewError("ERR_STORE_FAILED",
			"the upload arrived but could not be stored yet; edge will try again, nothing to resend", http.StatusInternalServerError)
	}
	return tushandler.HTTPResponse{}, nil
}

// handOver gives a finished upload to jobs, which judges and queues it,
// then forgets tusd's resume state.
func (s *Server) handOver(ctx context.Context, info tushandler.FileInfo) error {
	up := s.uploadStore.finished(info)
	up.StreamID, up.Filename = info.MetaData["stream"], info.MetaData["filename"]
	if err := s.jobs.AcceptUpload(ctx, up); err != nil {
		return err
	}
	if err := s.uploadStore.drop(ctx, up); err != nil {
		s.log.Warn("drop a finished upload's resume state", "stream", up.StreamID, "err", err)
	}
	return nil
}

// HandOverPendingUploads takes up again every upload that finished while
// its hand-over failed or was cut short (edge killed, disk full, ffprobe
// crashed): run at start and periodically, no upload stays "uploading"
// with its whole file on hand.
func (s *Server) HandOverPendingUploads(ctx context.Context) error {
	if s.uploadStore == nil {
		return nil
	}
	pending, err := s.db.PendingUploads(ctx)
	if err != nil {
		return err
	}
	for _, p := range pending {
		upload, err := s.tusStore.GetUpload(ctx, p.UploadID)
		if errors.Is(err, tushandler.ErrNotFound) {
			continue
		} else if err != nil {
			return fmt.Errorf("pending upload %s: %w", p.UploadID, err)
		}
		info, err := upload.GetInfo(ctx)
		if err != nil || info.SizeIsDeferred || info.Offset != info.Size {
			continue // still arriving
		}
		if err := s.handOver(ctx, info); err != nil {
			return fmt.Errorf("hand over upload of stream %s: %w", p.StreamID, err)
		}
		s.log.Info("upload handed over again", "stream", p.StreamID)
	}
	return nil
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
	if s.uploadStore == nil { // uploads are off
		return nil
	}
	removed, err := s.uploadStore.expire(ctx, cutoff)
	if err != nil {
		return err
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
