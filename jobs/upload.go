package jobs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"unicode"

	"github.com/edgehls/edge/db"
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

// AcceptUpload takes a finished upload: a file that is not a video, judged
// by its content, fails the stream with a message; a video is stored at
// uploads/<id>/<safe-name> and queued for transcoding.
func (m *Manager) AcceptUpload(ctx context.Context, streamID, filename, localPath string) error {
	if _, err := probeSource(ctx, localPath); errors.Is(err, errNotVideo) {
		msg := fmt.Sprintf("%s is not a video edge can read", cleanName(filename))
		m.Log.Info("upload refused", "stream", streamID, "reason", msg)
		return m.DB.SetStreamState(ctx, streamID, db.StatusFailed, 0, msg)
	} else if err != nil {
		return err
	}
	key := uploadPrefix(streamID) + cleanName(filename)
	if err := storage.PutFile(ctx, m.Store, localPath, key); err != nil {
		return err
	}
	if err := m.DB.QueueUploaded(ctx, streamID, key); err != nil {
		return err
	}
	m.wake()
	if st, err := os.Stat(localPath); err == nil {
		m.Log.Info("upload stored", "stream", streamID, "key", key, "bytes", st.Size())
	}
	return nil
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
