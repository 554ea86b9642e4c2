package jobs_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/hlstest"
	"github.com/edgehls/edge/internal/waitfor"
)

// Switched on for a ready stream, its MP4 download is made in the
// background from the top rendition: an MP4 with its index first
// (faststart) that ffprobe reads as the whole video, H.264 and AAC.
// Switched off, it is gone.
func TestMP4Download(t *testing.T) {
	ctx := context.Background()
	m, fs, _, id := readyLadder(t, 6)
	m.DB.SetStreamState(ctx, id, db.StatusReady, 100, "")
	on, off := true, false
	if err := m.UpdateStream(ctx, id, db.StreamUpdate{Downloads: &on}); err != nil {
		t.Fatal(err)
	}
	var st *db.Stream
	waitfor.True(t, "the download to be made", func() bool {
		st, _ = m.DB.Stream(ctx, id)
		return st.DownloadKey != ""
	})
	path := filepath.Join(fs.Dir(), st.DownloadKey)
	var probe struct {
		Format struct {
			FormatName string `json:"format_name"`
			Duration   string
		}
		Streams []struct {
			CodecName string `json:"codec_name"`
			Width     int
			Height    int
		}
	}
	hlstest.FFprobe(t, &probe, "-show_entries", "format=format_name,duration:stream=codec_name,width,height", path)
	seconds, _ := strconv.ParseFloat(probe.Format.Duration, 64)
	if !strings.Contains(probe.Format.FormatName, "mp4") || math.Abs(seconds-6) > 0.3 || len(probe.Streams) != 2 ||
		probe.Streams[0].CodecName != "h264" || probe.Streams[0].Width != 1280 || probe.Streams[1].CodecName != "aac" {
		t.Fatalf("download: %+v", probe)
	}
	body, _ := os.ReadFile(path)
	if moov, mdat := bytes.Index(body, []byte("moov")), bytes.Index(body, []byte("mdat")); moov < 0 || moov > mdat {
		t.Fatalf("moov at %d, mdat at %d: not faststart", moov, mdat)
	}
	if err := m.UpdateStream(ctx, id, db.StreamUpdate{Downloads: &off}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the download is still there: %v", err)
	}
	if st, _ := m.DB.Stream(ctx, id); st.DownloadKey != "" || st.Downloads {
		t.Fatalf("after switching off: %+v", st)
	}
}
