package jobs

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"unicode"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/storage"
)

// CreateForUpload makes a stream that waits for its source to be
// uploaded; s.Source is not used.
func (m *Manager) CreateForUpload(ctx context.Context, s Submission) (*db.Stream, error) {
	title := strings.TrimSpace(s.Title)
	if title == "" {
		title = "Untitled upload"
	}
	return m.create(ctx, db.NewStream{Title: title, Status: db.StatusUploading, Playback: s.Playback, Downloads: m.downloads(s), CreatedBy: s.UserID})
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

// judgeUpload judges a finished upload as a local file: one already in the
// bucket is downloaded first, so ffprobe never reads anything but a file
// (-protocol_whitelist file) whatever the upload claims to be. That costs
// one GET of the upload from the bucket, which is what keeps a hostile
// file from turning the probe into a network client.
func (m *Manager) judgeUpload(ctx context.Context, up FinishedUpload) error {
	if up.Key == "" {
		_, err := judgeFile(ctx, up.LocalPath, m.Limits)
		return err
	}
	local, err := m.downloadUpload(ctx, up.Key)
	if err != nil {
		return err
	}
	defer os.Remove(local)
	_, err = judgeFile(ctx, local, m.Limits)
	return err
}

// downloadUpload copies an upload from the bucket to a temporary file.
func (m *Manager) downloadUpload(ctx context.Context, key string) (string, error) {
	obj, err := m.UploadStore().Get(ctx, key, nil)
	if err != nil {
		return "", fmt.Errorf("upload %s: %w", key, err)
	}
	defer obj.Body.Close()
	f, err := os.CreateTemp(m.TempDir, TempPrefix+"judge-")
	if err != nil {
		return "", fmt.Errorf("stage upload %s: %w", key, err)
	}
	_, err = io.Copy(f, obj.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("download upload %s: %w", key, err)
	}
	return f.Name(), nil
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
