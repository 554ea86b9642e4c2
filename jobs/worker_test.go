package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/hlstest"
	"github.com/edgehls/edge/internal/proxytest"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/proxy"
	"github.com/edgehls/edge/storage"
	"github.com/edgehls/edge/storage/storagetest"
)

type rig struct {
	db      *db.DB
	store   storage.Store
	manager *jobs.Manager
	worker  *jobs.Worker
	log     *slog.Logger
}

func newRig(t *testing.T, store storage.Store) *rig {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "edge.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := &rig{db: d, store: store, log: log}
	r.worker = r.newWorker(t)
	r.manager = &jobs.Manager{DB: d, Store: store, Log: log, Worker: r.worker}
	return r
}

func (r *rig) newWorker(t *testing.T) *jobs.Worker {
	return &jobs.Worker{DB: r.db, Log: r.log, Poll: 50 * time.Millisecond,
		Transcoder: &jobs.FFmpeg{Store: r.store, TempDir: t.TempDir(), Log: r.log}}
}

// start runs a worker until the returned stop is called or the test ends.
func start(t *testing.T, w *jobs.Worker) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// putSource makes a real MP4 and puts it in storage.
func putSource(t *testing.T, s storage.Store, key string, seconds int, size string, audio bool) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "src.mp4")
	hlstest.MakeSource(t, path, seconds, size, audio)
	f, _ := os.Open(path)
	defer f.Close()
	if err := s.Put(context.Background(), key, f, -1); err != nil {
		t.Fatal(err)
	}
}

func waitStatus(t *testing.T, d *db.DB, id string, want db.Status, within time.Duration) *db.Stream {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st, err := d.Stream(context.Background(), id)
		if err == nil && st.Status == want {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s: %+v (err %v), want %s", id, st, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestFFmpegEndToEnd(t *testing.T) {
	fileStore := storagetest.NewFileStore(t, nil)
	s3srv := storagetest.StartS3(t)
	s3store := s3srv.Store(t, "media")
	for name, store := range map[string]storage.Store{"file": fileStore, "s3": s3store} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, store)
			putSource(t, store, "uploads/in/talk.mp4", 6, "1280x720", true)
			start(t, r.worker)
			st, err := r.manager.Submit(context.Background(), jobs.Submission{Source: "uploads/in/talk.mp4"})
			if err != nil {
				t.Fatal(err)
			}
			st = waitStatus(t, r.db, st.ID, db.StatusReady, 2*time.Minute)
			if !slices.Equal(st.Renditions, []string{"720p", "480p", "360p"}) || st.Progress != 100 ||
				st.Duration < 5*time.Second || st.PosterKey != "streams/"+st.ID+"/poster.jpg" {
				t.Fatalf("ready stream: %+v", st)
			}
			if _, err := store.Head(context.Background(), st.PosterKey); err != nil {
				t.Fatalf("poster: %v", err)
			}
			checkStoryboard(t, store, st.ID, 3)
			jobsList, _ := r.db.ListJobs(context.Background(), st.ID)
			if len(jobsList) != 1 || jobsList[0].Status != "succeeded" || jobsList[0].Backend != "ffmpeg" {
				t.Fatalf("job history: %+v", jobsList)
			}
			// Read back through the proxy by ffprobe, every rendition.
			edge := httptest.NewServer(proxytest.New(t, proxy.Config{Origin: store, Logger: r.log}))
			defer edge.Close()
			base := edge.URL + "/streams/" + st.ID + "/"
			if h := heights(t, base+"master.m3u8"); !slices.Equal(h, []int{360, 480, 720}) {
				t.Fatalf("master heights %v", h)
			}
			for _, rend := range st.Renditions {
				if h := heights(t, base+rend+"/stream.m3u8"); len(h) != 1 || h[0] != map[string]int{"720p": 720, "480p": 480, "360p": 360}[rend] {
					t.Fatalf("%s heights %v", rend, h)
				}
			}
		})
	}
}

// Progress starts near 0 and climbs: ffmpeg writes none until every
// output has begun, and a storyboard sheet tiled in the run began only
// with its 100th thumbnail, so a short video jumped from 0 to 99.
func TestTranscodeReportsProgressAndHandlesSilentSources(t *testing.T) {
	store := storagetest.NewFileStore(t, nil)
	putSource(t, store, "uploads/a/silent.mp4", 20, "1280x720", false)
	ff := &jobs.FFmpeg{Store: store, TempDir: t.TempDir()}
	var seen []int
	res, err := ff.Transcode(context.Background(), "s1", "uploads/a/silent.mp4", func(p int) { seen = append(seen, p) })
	if err != nil {
		t.Fatal(err)
	}
	steps := slices.Compact(slices.Clone(seen))
	if !slices.Equal(res.Renditions, []string{"720p", "480p", "360p"}) || len(steps) < 3 || seen[0] >= 50 ||
		!slices.IsSorted(seen) || seen[len(seen)-1] < 80 || slices.Max(seen) > 99 {
		t.Fatalf("result %+v, progress %v", res, seen)
	}
	checkStoryboard(t, store, "s1", 10)
	objs, err := store.List(context.Background(), "streams/s1/")
	if err != nil || len(objs) == 0 {
		t.Fatalf("package: %d objects, %v", len(objs), err)
	}
	for _, o := range objs {
		if strings.HasSuffix(o.Key, ".png") {
			t.Errorf("a thumbnail left in the package: %s", o.Key)
		}
	}
}

func TestBadSourcesFailTheStreamWithAMessage(t *testing.T) {
	store := storagetest.NewFileStore(t, map[string]string{"uploads/a/notes.mp4": "these are my notes, not a video"})
	r := newRig(t, store)
	start(t, r.worker)
	st, _ := r.manager.Submit(context.Background(), jobs.Submission{Source: "uploads/a/notes.mp4"})
	st = waitStatus(t, r.db, st.ID, db.StatusFailed, time.Minute)
	if !strings.Contains(st.Error, "not a video") {
		t.Fatalf("error shown: %q", st.Error)
	}
	s3st, _ := r.db.CreateStream(context.Background(), db.NewStream{Title: "x", SourceKey: "s3://bucket/a.mp4", Status: db.StatusQueued})
	r.worker.Wake()
	if s := waitStatus(t, r.db, s3st.ID, db.StatusFailed, time.Minute); !strings.Contains(s.Error, "give a storage key") {
		t.Fatalf("s3 source with ffmpeg: %q", s.Error)
	}
}

// TestStopMidJobRunsItAgainAfterRestart: a worker stopped mid-transcode
// (edge shutting down) leaves the stream queued; the next worker finishes it.
// A crash (a stream left "processing") is requeued at start-up too.
func TestStopMidJobRunsItAgainAfterRestart(t *testing.T) {
	store := storagetest.NewFileStore(t, nil)
	putSource(t, store, "uploads/a/long.mp4", 30, "1280x720", true)
	r := newRig(t, store)
	stop := start(t, r.worker)
	st, _ := r.manager.Submit(context.Background(), jobs.Submission{Source: "uploads/a/long.mp4"})
	waitStatus(t, r.db, st.ID, db.StatusProcessing, time.Minute)
	stop()
	if s, _ := r.db.Stream(context.Background(), st.ID); s.Status != db.StatusQueued {
		t.Fatalf("after stop: %s", s.Status)
	}
	// A crash: the row still says processing, nobody runs it.
	r.db.SetStreamState(context.Background(), st.ID, db.StatusProcessing, 40, "")
	start(t, r.newWorker(t))
	waitStatus(t, r.db, st.ID, db.StatusReady, 3*time.Minute)
	jobsList, _ := r.db.ListJobs(context.Background(), st.ID)
	var states []string
	for _, j := range jobsList {
		states = append(states, j.Status)
	}
	if !slices.Equal(states, []string{"succeeded", "interrupted"}) {
		t.Fatalf("job history: %v", states)
	}
}

func TestDeleteCancelsTheRunningJob(t *testing.T) {
	store := storagetest.NewFileStore(t, nil)
	putSource(t, store, "uploads/a/long.mp4", 30, "1280x720", true)
	r := newRig(t, store)
	start(t, r.worker)
	st, _ := r.manager.Submit(context.Background(), jobs.Submission{Source: "uploads/a/long.mp4"})
	waitStatus(t, r.db, st.ID, db.StatusProcessing, time.Minute)
	if err := r.manager.Delete(context.Background(), st.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.db.Stream(context.Background(), st.ID); !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("stream after delete: %v", err)
	}
	time.Sleep(200 * time.Millisecond)
	if left, _ := store.List(context.Background(), "streams/"+st.ID+"/"); len(left) != 0 {
		t.Fatalf("objects left behind: %d", len(left))
	}
}

func heights(t *testing.T, url string) []int {
	_, h := hlstest.VideoSizes(t, url)
	return h
}

// checkStoryboard reads storyboard.vtt: cues thumbnails every 2 s of 160×90
// in a 10×10 sheet that ffprobe reads as 1600×900.
func checkStoryboard(t *testing.T, store storage.Store, id string, cues int) {
	t.Helper()
	ctx := context.Background()
	obj, err := store.Get(ctx, "streams/"+id+"/storyboard.vtt", nil)
	if err != nil {
		t.Fatalf("storyboard: %v", err)
	}
	vtt, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	want := "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nstoryboard-0.jpg#xywh=0,0,160,90\n\n00:00:02.000 --> 00:00:04.000\nstoryboard-0.jpg#xywh=160,0,160,90\n"
	if !strings.HasPrefix(string(vtt), want) || strings.Count(string(vtt), "#xywh=") != cues {
		t.Fatalf("storyboard.vtt, want %d cues:\n%s", cues, vtt)
	}
	sheet, err := store.Get(ctx, "streams/"+id+"/storyboard-0.jpg", nil)
	if err != nil {
		t.Fatalf("sheet: %v", err)
	}
	f, _ := os.CreateTemp(t.TempDir(), "sheet-*.jpg")
	io.Copy(f, sheet.Body)
	sheet.Body.Close()
	f.Close()
	var probe struct{ Streams []struct{ Width, Height int } }
	hlstest.FFprobe(t, &probe, "-show_entries", "stream=width,height", f.Name())
	if len(probe.Streams) != 1 || probe.Streams[0].Width != 1600 || probe.Streams[0].Height != 900 {
		t.Fatalf("sheet %+v", probe.Streams)
	}
}
