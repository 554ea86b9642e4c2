package jobs_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/hlstest"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/storage/storagetest"
)

// canary counts the requests a server receives: a hostile file that makes
// ffprobe or ffmpeg fetch a URL shows up here.
func canary(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte("secret-metadata"))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// hostileFile writes one hostile source into dir and returns its path.
type hostileFile func(t *testing.T, dir string) string

func textFile(name, body string) hostileFile {
	return func(t *testing.T, dir string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
}

func ffmpegFile(name string, args ...string) hostileFile {
	return func(t *testing.T, dir string) string {
		p := filepath.Join(dir, name)
		hlstest.FFmpeg(t, append(args, p)...)
		return p
	}
}

// outsideSegment is a real video outside the media root, which a playlist
// could name by file:// to publish it.
func outsideSegment(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "private", "x.ts")
	os.MkdirAll(filepath.Dir(p), 0o755)
	hlstest.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast", p)
	return p
}

// TestHostileMediaIsRefusedBeforeAnythingReadsIt: playlists, manifests,
// concat lists, images, other containers and sources beyond the limits
// fail the upload with a message naming what they are, no URL or file they
// name is ever opened, and nothing of them is kept.
func TestHostileMediaIsRefusedBeforeAnythingReadsIt(t *testing.T) {
	srv, hits := canary(t)
	private := outsideSegment(t)
	playlist := func(uri string) string {
		return "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n" + uri + "\n#EXT-X-ENDLIST\n"
	}
	for _, tc := range []struct {
		name string
		file hostileFile
		want string
	}{
		{"hls playlist naming cloud metadata", textFile("holiday.mp4", playlist(srv.URL+"/latest/meta-data/#.ts")),
			"holiday.mp4 is an M3U/HLS playlist, not a video"},
		{"hls playlist naming a local file", textFile("clip.mp4", playlist("file://"+private)),
			"clip.mp4 is an M3U/HLS playlist"},
		{"playlist after a byte-order mark", textFile("bom.mov", "\ufeff\r\n"+playlist(srv.URL+"/x.ts")), "is an M3U/HLS playlist"},
		{"concat list", textFile("talk.mp4", "ffconcat version 1.0\nfile '"+private+"'\n"), "is an ffmpeg concat list"},
		{"dash manifest", textFile("talk.mpd", `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><BaseURL>`+srv.URL+`/</BaseURL></MPD>`),
			"is an XML document"},
		{"image", ffmpegFile("frame.mp4", "-f", "lavfi", "-i", "testsrc2=size=320x240", "-frames:v", "1", "-f", "image2", "-c:v", "png"),
			"is an image, not a video"},
		{"container edge does not read", ffmpegFile("old.mp4", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10", "-t", "1", "-c:v", "rv10", "-f", "rm"),
			"container is not one edge reads"},
		{"huge frames", ffmpegFile("tiny.mp4", "-f", "lavfi", "-i", "color=c=red:size=12000x12000:rate=1,format=yuv420p",
			"-frames:v", "1", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-threads", "1"),
			"frames are larger than edge takes"},
		{"frames hours apart", ffmpegFile("slow.mp4", "-f", "lavfi", "-i", "color=size=320x240:rate=1/18000", "-frames:v", "3",
			"-c:v", "libx264", "-preset", "ultrafast"),
			"lasts 15h00m; edge takes at most 6h00m"},
		{"too many tracks", manyTracks(20), "has 21 tracks; edge takes at most 16"},
		{"not media at all", textFile("notes.mp4", "\x00\x01binary junk\xff\xfe"), "is not a video or audio file edge can read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := storagetest.NewFileStore(t, nil)
			r := newRig(t, store)
			ctx := context.Background()
			st, _ := r.manager.CreateForUpload(ctx, jobs.Submission{Title: "x"})
			path := tc.file(t, t.TempDir())
			up := jobs.FinishedUpload{StreamID: st.ID, Filename: filepath.Base(path), LocalPath: path}
			if err := r.manager.AcceptUpload(ctx, up); err != nil {
				t.Fatalf("accept: %v", err)
			}
			got, _ := r.db.Stream(ctx, st.ID)
			if got.Status != db.StatusFailed || !strings.Contains(got.Error, tc.want) {
				t.Fatalf("stream %s %q, want failed with %q", got.Status, got.Error, tc.want)
			}
			if kept, _ := store.List(ctx, "uploads/"); len(kept) != 0 {
				t.Fatalf("refused upload kept: %v", kept)
			}
			if n := hits.Load(); n != 0 {
				t.Fatalf("a hostile file made edge fetch a URL %d times", n)
			}
		})
	}
}

// manyTracks makes a short video with n audio tracks besides its video.
func manyTracks(n int) hostileFile {
	return func(t *testing.T, dir string) string {
		args := []string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10", "-f", "lavfi", "-i", "sine", "-t", "1", "-map", "0:v"}
		for range n {
			args = append(args, "-map", "1:a")
		}
		p := filepath.Join(dir, "tracks.mkv")
		hlstest.FFmpeg(t, append(args, "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", p)...)
		return p
	}
}

// TestHostileSourceInStorageIsNeverTranscoded: a playlist that reached
// storage some other way (an API source key) fails at the runner's own
// judgement, and no object of the file it names is published.
func TestHostileSourceInStorageIsNeverTranscoded(t *testing.T) {
	private := outsideSegment(t)
	store := storagetest.NewFileStore(t, map[string]string{
		"uploads/a/clip.mp4": "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile://" + private + "\n#EXT-X-ENDLIST\n"})
	r := newRig(t, store)
	start(t, r.worker)
	st, err := r.manager.Submit(context.Background(), jobs.Submission{Source: "uploads/a/clip.mp4"})
	if err != nil {
		t.Fatal(err)
	}
	got := waitStatus(t, r.db, st.ID, db.StatusFailed, time.Minute)
	if !strings.Contains(got.Error, "M3U/HLS playlist") {
		t.Fatalf("error shown: %q", got.Error)
	}
	if out, _ := store.List(context.Background(), "streams/"); len(out) != 0 {
		t.Fatalf("published from a hostile source: %v", out)
	}
}

// TestSourceWithinLimitsPasses: the judgement does not refuse real video,
// and custom limits apply.
func TestSourceWithinLimitsPasses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "talk.mov")
	hlstest.MakeSource(t, path, 2, "640x360", true)
	for _, tc := range []struct {
		limits jobs.Limits
		status db.Status
		errHas string
	}{
		{jobs.Limits{}, db.StatusQueued, ""},
		{jobs.Limits{MaxResolution: 480}, db.StatusFailed, "talk.mov: the video is 640×360; edge takes at most 480 pixels on a side"},
		{jobs.Limits{MaxDuration: time.Second}, db.StatusFailed, "lasts 2s; edge takes at most 1s"},
		{jobs.Limits{MaxTracks: 1}, db.StatusFailed, "has 2 tracks"},
	} {
		t.Run(fmt.Sprint(tc.limits), func(t *testing.T) {
			store := storagetest.NewFileStore(t, nil)
			r := newRig(t, store)
			r.manager.Limits = tc.limits
			ctx := context.Background()
			st, _ := r.manager.CreateForUpload(ctx, jobs.Submission{Title: "x"})
			if err := r.manager.AcceptUpload(ctx, jobs.FinishedUpload{StreamID: st.ID, Filename: "talk.mov", LocalPath: path}); err != nil {
				t.Fatal(err)
			}
			got, _ := r.db.Stream(ctx, st.ID)
			if got.Status != tc.status || !strings.Contains(got.Error, tc.errHas) {
				t.Fatalf("%s %q, want %s %q", got.Status, got.Error, tc.status, tc.errHas)
			}
		})
	}
}

// TestKilledProbeIsRetriedNotTakenAsNotAVideo: ffprobe killed by a signal
// says nothing about the file. Once, and the upload is judged again and
// queued; every time, and the upload stays waiting with its file, for a
// retry, instead of being refused.
func TestKilledProbeIsRetriedNotTakenAsNotAVideo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "talk.mp4")
	hlstest.MakeSource(t, path, 1, "320x240", false)
	for _, tc := range []struct {
		kills, runs int
		status      db.Status
	}{
		{1, 2, db.StatusQueued},
		{100, 3, db.StatusUploading},
	} {
		t.Run(fmt.Sprint(tc.kills), func(t *testing.T) {
			runs := hlstest.KillingTool(t, "ffprobe", tc.kills)
			r := newRig(t, storagetest.NewFileStore(t, nil))
			ctx := context.Background()
			st, _ := r.manager.CreateForUpload(ctx, jobs.Submission{Title: "x"})
			err := r.manager.AcceptUpload(ctx, jobs.FinishedUpload{StreamID: st.ID, Filename: "talk.mp4", LocalPath: path})
			got, _ := r.db.Stream(ctx, st.ID)
			if got.Status != tc.status || runs() != tc.runs || (err == nil) != (tc.status == db.StatusQueued) {
				t.Fatalf("status %s after %d runs (err %v), want %s after %d", got.Status, runs(), err, tc.status, tc.runs)
			}
			if _, statErr := os.Stat(path); statErr != nil {
				t.Fatalf("the upload's file is gone: %v", statErr)
			}
		})
	}
}

// TestS3UploadsAndSourcesStayInTheirBucket: with uploads in a bucket, a
// hostile upload is downloaded and judged as a local file, and an s3:// source is taken only from inside the upload
// storage, so no one can have edge (or Ittybit, with edge's connection)
// read another bucket's or another prefix's files.
func TestS3UploadsAndSourcesStayInTheirBucket(t *testing.T) {
	srv, hits := canary(t)
	s3srv := storagetest.StartS3(t)
	uploads := s3srv.Store(t, "incoming")
	r := newRig(t, s3srv.Store(t, "edge"))
	r.manager.Uploads = uploads
	r.manager.TempDir = t.TempDir()
	ctx := context.Background()

	putSource(t, uploads, "uploads/v/talk.mp4", 1, "320x240", true)
	video, _ := r.manager.CreateForUpload(ctx, jobs.Submission{Title: "talk"})
	if err := r.manager.AcceptUpload(ctx, jobs.FinishedUpload{StreamID: video.ID, Filename: "talk.mp4", Key: "uploads/v/talk.mp4"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.db.Stream(ctx, video.ID); got.Status != db.StatusQueued {
		t.Fatalf("a video uploaded to the bucket: %s %q", got.Status, got.Error)
	}
	if left, _ := os.ReadDir(r.manager.TempDir); len(left) != 0 {
		t.Fatalf("the judged download was left behind: %v", left)
	}

	key := "uploads/h/holiday.mp4"
	body := "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n" + srv.URL + "/latest/meta-data/#.ts\n#EXT-X-ENDLIST\n"
	uploads.Put(ctx, key, strings.NewReader(body), int64(len(body)))
	st, _ := r.manager.CreateForUpload(ctx, jobs.Submission{Title: "x"})
	if err := r.manager.AcceptUpload(ctx, jobs.FinishedUpload{StreamID: st.ID, Filename: "holiday.mp4", Key: key}); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.db.Stream(ctx, st.ID); got.Status != db.StatusFailed || !strings.Contains(got.Error, "holiday.mp4 is an M3U/HLS playlist") {
		t.Fatalf("hostile S3 upload: %s %q", got.Status, got.Error)
	}
	if _, err := uploads.Head(ctx, key); err == nil || hits.Load() != 0 {
		t.Fatalf("hostile S3 upload kept (%v) or fetched its URL (%d)", err, hits.Load())
	}

	uploads.Put(ctx, "uploads/talk.mp4", strings.NewReader("x"), 1)
	for source, want := range map[string]string{
		"s3://media/incoming/uploads/talk.mp4":        "",
		"uploads/talk.mp4":                            "",
		"s3://other-bucket/incoming/uploads/talk.mp4": "only from its upload storage, s3://media/incoming/",
		"s3://media/edge/streams/x/master.m3u8":       "only from its upload storage",
		"s3://media/incoming/uploads/none.mp4":        "no such object",
	} {
		st, err := r.manager.Submit(ctx, jobs.Submission{Source: source})
		switch {
		case want == "" && (err != nil || st.SourceKey != "uploads/talk.mp4"):
			t.Errorf("%s: %v %+v", source, err, st)
		case want != "" && (!isInvalid(err) || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: %v, want invalid with %q", source, err, want)
		}
	}
}

// TestJobTimeoutFailsTheStream: a transcode that runs past the limit is
// stopped and its stream fails with a message, freeing its queue slot.
func TestJobTimeoutFailsTheStream(t *testing.T) {
	store := storagetest.NewFileStore(t, nil)
	putSource(t, store, "uploads/a/talk.mp4", 1, "320x240", false)
	r := newRig(t, store)
	r.worker.JobTimeout = time.Nanosecond
	start(t, r.worker)
	st, _ := r.manager.Submit(context.Background(), jobs.Submission{Source: "uploads/a/talk.mp4"})
	got := waitStatus(t, r.db, st.ID, db.StatusFailed, time.Minute)
	if got.Error != "the transcode took longer than edge allows (1ns) and was stopped" {
		t.Fatalf("error shown: %q", got.Error)
	}
}
