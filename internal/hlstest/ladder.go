// Package hlstest makes real HLS ladders with ffmpeg for tests of the proxy,
// the jobs and the player.
package hlstest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// Renditions made by MakeLadder, highest first.
var Renditions = []string{"720p", "360p"}

// MakeLadder writes a seconds-long two-rendition HLS package (master.m3u8,
// 720p/stream.m3u8, 720p/segment-N.ts, 360p/…) into dir, with 2-second
// segments. A missing ffmpeg fails the test: `make test` installs it.
func MakeLadder(t testing.TB, dir string, seconds int) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src.mp4")
	MakeSource(t, src, seconds, "1280x720", true)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "ffmpeg", "-v", "error", "-i", src,
		"-filter_complex", "[0:v]split=2[a][b];[a]scale=-2:720[v720];[b]scale=-2:360[v360]",
		"-map", "[v720]", "-map", "[v360]", "-map", "0:a", "-map", "0:a",
		"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p",
		"-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-b:v:0", "2800k", "-b:v:1", "800k",
		"-c:a", "aac", "-b:a", "128k",
		"-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod", "-hls_flags", "independent_segments",
		"-master_pl_name", "master.m3u8",
		"-hls_segment_filename", filepath.Join(dir, "%v/segment-%d.ts"),
		"-var_stream_map", "v:0,a:0,name:720p v:1,a:1,name:360p",
		filepath.Join(dir, "%v/stream.m3u8"))
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not found: run `make test-deps`", name)
	}
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

// MakeSource writes an H.264 (and AAC, with audio) MP4 test pattern of the
// given size, such as "1280x720".
func MakeSource(t testing.TB, path string, seconds int, size string, audio bool) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"-v", "error", "-f", "lavfi", "-i", "testsrc2=size=" + size + ":rate=30"}
	if audio {
		args = append(args, "-f", "lavfi", "-i", "sine=frequency=440", "-c:a", "aac")
	}
	args = append(args, "-t", strconv.Itoa(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-y", path)
	run(t, "ffmpeg", args...)
}

// FFmpeg runs ffmpeg with args, for tests that make unusual media.
func FFmpeg(t testing.TB, args ...string) {
	t.Helper()
	run(t, "ffmpeg", append([]string{"-v", "error", "-y"}, args...)...)
}
