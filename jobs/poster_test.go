package jobs_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/internal/hlstest"
)

// psnr compares two pictures with ffmpeg's psnr filter, in dB (inf: equal).
func psnr(t *testing.T, a, b string) float64 {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-hide_banner", "-i", a, "-i", b, "-lavfi", "[0:v][1:v]scale2ref[x][y];[x][y]psnr", "-f", "null", "-").CombinedOutput()
	if err != nil {
		t.Fatalf("psnr: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`average:(inf|[0-9.]+)`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("psnr: %s", out)
	}
	if m[1] == "inf" {
		return 1000
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// The poster is the picture at the moment chosen: ffmpeg's own frame of
// the ladder at that moment matches it (PSNR), one of another moment
// does not; the former custom poster is gone.
func TestPosterFromAMoment(t *testing.T) {
	ctx := context.Background()
	m, fs, _, id := readyLadder(t, 6)
	m.DB.SetStreamOutput(ctx, id, db.StreamOutput{Duration: 6 * time.Second, Renditions: hlstest.Renditions, PosterKey: "streams/" + id + "/poster.jpg"})
	m.DB.SetStreamState(ctx, id, db.StatusReady, 100, "")
	st, err := m.SetPoster(ctx, id, 3500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^streams/` + id + `/poster-\d+\.jpg$`).MatchString(st.PosterKey) {
		t.Fatalf("poster key %q", st.PosterKey)
	}
	poster := filepath.Join(fs.Dir(), st.PosterKey)
	var probe struct{ Streams []struct{ Width, Height int } }
	hlstest.FFprobe(t, &probe, "-show_entries", "stream=width,height", poster)
	if len(probe.Streams) != 1 || probe.Streams[0].Width != 1280 || probe.Streams[0].Height != 720 {
		t.Fatalf("poster picture %+v: want the 720p rung's", probe.Streams)
	}
	frame := func(at string) string {
		out := filepath.Join(t.TempDir(), "frame.jpg")
		hlstest.FFmpeg(t, "-v", "error", "-i", filepath.Join(fs.Dir(), "streams", id, "720p", "stream.m3u8"), "-ss", at, "-frames:v", "1", "-q:v", "3", out)
		return out
	}
	same, other := psnr(t, poster, frame("3.5")), psnr(t, poster, frame("1.0"))
	t.Logf("PSNR to ffmpeg's frame at 3.5 s: %.1f dB, at 1 s: %.1f dB", same, other)
	if same < 30 || other > same-5 {
		t.Fatal("the poster is not the picture at 3.5 s")
	}
	first := st.PosterKey
	st, err = m.SetPoster(ctx, id, 500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(fs.Dir(), first)); !os.IsNotExist(err) || st.PosterKey == first {
		t.Fatalf("the former poster %s is still there (%v)", first, err)
	}

	for _, tc := range []struct {
		at   time.Duration
		want string
	}{{-time.Second, "time: from 0 to 6.0 seconds"}, {6 * time.Second, "time: from 0 to 6.0 seconds"}} {
		_, err := m.SetPoster(ctx, id, tc.at)
		if ae, ok := apperr.As(err); !ok || !strings.HasPrefix(ae.Message, tc.want) {
			t.Errorf("%s: %v", tc.at, err)
		}
	}
	m.DB.SetStreamState(ctx, id, db.StatusProcessing, 50, "")
	if _, err := m.SetPoster(ctx, id, time.Second); err == nil || !strings.Contains(err.Error(), "not ready yet") {
		t.Errorf("not ready: %v", err)
	}
}
