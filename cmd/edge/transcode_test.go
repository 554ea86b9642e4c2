package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgehls/edge/internal/hlstest"
)

// TestSubmitTranscodeAndPlay: a script submits a video in the upload
// storage (a folder of its own here) through the API; edge transcodes it
// with ffmpeg and serves a playable ladder.
func TestSubmitTranscodeAndPlay(t *testing.T) {
	sources := t.TempDir()
	vars := map[string]string{"EDGE_DATA_DIR": t.TempDir(), "EDGE_UPLOADS": "file://" + sources}
	hlstest.MakeSource(t, filepath.Join(sources, "uploads/demo.mp4"), 6, "854x480", true)
	api, base := scriptedEdge(t, vars)
	created := api("POST", "/api/v1/streams", `{"title":"Demo","source":"uploads/demo.mp4"}`)
	id, _ := created["id"].(string)
	st := waitSettled(t, api, id, 2*time.Minute)
	if st["status"] != "ready" || st["progress"] != float64(100) {
		t.Fatalf("stream: %v", st)
	}
	if st["master_url"] != base+"/streams/"+id+"/master.m3u8" {
		t.Fatalf("master_url: %v", st["master_url"])
	}
	master := base + "/streams/" + id + "/master.m3u8"
	out, err := exec.CommandContext(context.Background(), "ffprobe", "-v", "error", "-show_entries", "stream=height", "-of", "csv=p=0", master).Output()
	if err != nil || !strings.Contains(string(out), "480") || !strings.Contains(string(out), "360") {
		t.Fatalf("ffprobe %s: %q %v", master, out, err)
	}
}
