package jobs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/hlstest"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/storage/storagetest"
)

// brokenTranscoder fails the way a full disk does, in edge's own words.
type brokenTranscoder struct{}

func (brokenTranscoder) Name() string { return "broken" }
func (brokenTranscoder) Transcode(context.Context, string, string, func(int)) (jobs.Result, error) {
	return jobs.Result{}, errors.New("stage source: write /tmp/edge-job-123/source: copy_file_range: no space left on device")
}

// TestFailuresAreWordedForUsers: an internal failure shows the content
// team an error id, never edge's paths or system errors; an ffmpeg killed
// mid-transcode says so instead of nothing.
func TestFailuresAreWordedForUsers(t *testing.T) {
	t.Run("internal", func(t *testing.T) {
		r := newRig(t, storagetest.NewFileStore(t, map[string]string{"uploads/a/talk.mp4": "x"}))
		r.worker.Transcoder = brokenTranscoder{}
		start(t, r.worker)
		st, _ := r.manager.Submit(context.Background(), jobs.Submission{Source: "uploads/a/talk.mp4"})
		got := waitStatus(t, r.db, st.ID, db.StatusFailed, time.Minute)
		if !strings.HasPrefix(got.Error, "edge could not process this video (error id ") || strings.Contains(got.Error, "/tmp") {
			t.Fatalf("shown: %q", got.Error)
		}
	})
	t.Run("ffmpeg killed", func(t *testing.T) {
		store := storagetest.NewFileStore(t, nil)
		putSource(t, store, "uploads/a/talk.mp4", 1, "320x240", false)
		hlstest.KillingTool(t, "ffmpeg", 100)
		r := newRig(t, store)
		start(t, r.worker)
		st, _ := r.manager.Submit(context.Background(), jobs.Submission{Source: "uploads/a/talk.mp4"})
		got := waitStatus(t, r.db, st.ID, db.StatusFailed, time.Minute)
		if got.Error != "ffmpeg failed: it stopped without a message (signal: killed)" {
			t.Fatalf("shown: %q", got.Error)
		}
	})
}
