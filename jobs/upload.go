package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
	"unicode"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/storage"
)

// CreateForUpload makes a stream that waits for its source to be uploaded.
func (m *Manager) CreateForUpload(ctx context.Context, title string, userID int64) (*db.Stream, error) {
	title = strings.TrimSpace(title)
	if title == "" {
		title = "Untitled upload"
	}
	return m.DB.CreateStream(ctx, db.NewStream{Title: title, Status: db.StatusUploading, CreatedBy: userID})
}

// FinishedUpload is a complete upload, in one of two places: staged in a
// local file, or already at its key in the upload storage (an S3 upload
// storage receives the parts directly, at UploadKey).
type FinishedUpload struct {
	StreamID  string
	Filename  string // as the user's computer named it
	LocalPath string
	Key       string
}

// presigner is an upload storage that ffprobe can read over HTTP, so a
// large upload is judged without being downloaded.
type presigner interface {
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error)
}

// AcceptUpload takes a finished upload: a file that is not a video, judged
// by its content, fails the stream with a message and is dropped; a video
// ends at uploads/<id>/<safe-name> in the upload storage and is queued.
func (m *Manager) AcceptUpload(ctx context.Context, up FinishedUpload) error {
	err := m.judgeUpload(ctx, up)
	if refusal, ok := apperr.As(err); ok {
		return m.refuseUpload(ctx, up, refusal)
	} else if err != nil {
		return err
	}
	key := up.Key
	if key == "" {
		key = UploadKey(up.StreamID, up.Filename)
		if err := storage.PutFile(ctx, m.UploadStore(), up.LocalPath, key); err != nil {
			return err
		}
	}
	if err := m.DB.QueueUploaded(ctx, up.StreamID, key); err != nil {
		return err
	}
	m.wake()
	m.Log.Info("upload stored", "stream", up.StreamID, "key", key)
	return nil
}

// judgeUpload judges a staged file where it lies. An upload already in the
// bucket is judged by its first bytes and then by ffprobe through a
// presigned URL, under the same safe input options: its demuxer cannot
// open anything else, and the URL's scheme is the only protocol allowed.
func (m *Manager) judgeUpload(ctx context.Context, up FinishedUpload) error {
	if up.Key == "" {
		_, err := judgeFile(ctx, up.LocalPath, m.Limits)
		return err
	}
	p, ok := m.UploadStore().(presigner)
	if !ok {
		return fmt.Errorf("upload %s: the upload storage cannot be read by URL", up.Key)
	}
	head, err := m.readUploadHead(ctx, up.Key)
	if err != nil {
		return err
	}
	u, err := p.PresignGet(ctx, up.Key, 15*time.Minute)
	if err != nil {
		return fmt.Errorf("upload %s: %w", up.Key, err)
	}
	_, err = judgeSource(ctx, u, head, m.Limits)
	return err
}

func (m *Manager) readUploadHead(ctx context.Context, key string) ([]byte, error) {
	obj, err := m.UploadStore().Get(ctx, key, &storage.Range{Start: 0, End: sniffLen - 1})
	if errors.Is(err, storage.ErrRangeNotSatisfiable) { // an empty file
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("upload %s: %w", key, err)
	}
	defer obj.Body.Close()
	head, err := io.ReadAll(io.LimitReader(obj.Body, sniffLen))
	if err != nil {
		return nil, fmt.Errorf("upload %s: %w", key, err)
	}
	return head, nil
}

func (m *Manager) refuseUpload(ctx context.Context, up FinishedUpload, why *apperr.Error) error {
	msg := cleanName(up.Filename) + ": " + why.Message
	if rest, ok := strings.CutPrefix(why.Message, "the file "); ok {
		msg = cleanName(up.Filename) + " " + rest // "talk.mp4 is an image, not a video"
	}
	m.Log.Info("upload refused", "stream", up.StreamID, "reason", msg)
	if up.Key != "" {
		if err := m.UploadStore().Delete(ctx, up.Key); err != nil {
			return err
		}
	}
	return m.DB.SetStreamState(ctx, up.StreamID, db.StatusFailed, 0, msg)
}

// UploadKey is where a stream's uploaded source is kept.
func UploadKey(streamID, filename string) string {
	return uploadPrefix(streamID) + cleanName(filename)
}

// cleanName keeps a file name readable but safe as one storage key segment.
func cleanName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	var b strings.Builder
	for _, r := range name {
		switch {
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '-' || r == '_'):
			b.WriteRune(r)
		case unicode.IsSpace(r) || r > 127:
			b.WriteRune('_')
		}
	}
	s := strings.TrimLeft(b.String(), ".")
	if len(s) > 120 {
		s = s[len(s)-120:]
	}
	if s == "" {
		s = "source"
	}
	return s
}
