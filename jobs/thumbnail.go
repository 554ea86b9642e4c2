package jobs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/storage"
)

// Thumbnails are pictures of a moment at a width a page asks for
// (thumbnail.jpg?time=&width=), made once into storage
// (streams/<id>/thumbnails/<ms>-<width>.jpg) and from then on served, and
// cached, like any object of the stream.

// ErrBusy is a thumbnail asked for while edge already makes as many as it
// will at once; it is worth asking again shortly.
var ErrBusy = apperr.New(apperr.Unavailable, "thumbnails are being made for others: try again in a second")

// thumbnailJobs bounds the thumbnails made at once: each is an ffmpeg run.
const thumbnailJobs = 2

var (
	thumbnailSlots  = make(chan struct{}, thumbnailJobs)
	thumbnailFlight singleflight.Group
)

// ThumbnailKey is where the thumbnail of a moment and width is kept.
func ThumbnailKey(id string, at time.Duration, width int) string {
	return fmt.Sprintf("%sthumbnails/%d-%d.jpg", streamPrefix(id), at.Milliseconds(), width)
}

// Thumbnail makes sure the thumbnail at `at`, width wide, is in storage
// and returns its key: one ffmpeg run however many ask for it at once.
func (m *Manager) Thumbnail(ctx context.Context, st *db.Stream, at time.Duration, width int) (string, error) {
	if st.Status != db.StatusReady {
		return "", apperr.New(apperr.NotFound, "this video has no pictures yet")
	}
	key := ThumbnailKey(st.ID, at, width)
	if _, err := m.Store.Head(ctx, key); err == nil {
		return key, nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return "", err
	}
	_, err, _ := thumbnailFlight.Do(key, func() (any, error) {
		select {
		case thumbnailSlots <- struct{}{}:
			defer func() { <-thumbnailSlots }()
		default:
			return nil, ErrBusy
		}
		return nil, m.makeThumbnail(context.WithoutCancel(ctx), st.ID, at, width, key)
	})
	return key, err
}

func (m *Manager) makeThumbnail(ctx context.Context, id string, at time.Duration, width int, key string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	master, err := m.readMaster(ctx, id)
	if err != nil {
		return err
	}
	v := posterVariant(master)
	if v == nil {
		return apperr.New(apperr.NotFound, "this stream has no picture")
	}
	jpeg, err := m.grabStreamFrame(ctx, id, v, at, width)
	if err != nil {
		return err
	}
	defer os.Remove(jpeg)
	return putFile(ctx, m.Store, key, jpeg)
}
