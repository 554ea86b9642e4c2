package hlstest

import (
	"encoding/json"
	"os/exec"
	"slices"
	"testing"
)

// FFprobe runs ffprobe with JSON output and decodes it into v.
func FFprobe(t testing.TB, v any, args ...string) {
	t.Helper()
	args = append([]string{"-v", "error", "-of", "json"}, args...)
	out, err := exec.Command("ffprobe", args...).Output()
	if err != nil {
		t.Fatalf("ffprobe %v: %v", args, err)
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("ffprobe output: %v\n%s", err, out)
	}
}

// VideoSizes returns the distinct widths and heights, each sorted, of the
// video streams ffprobe finds at url: for an HLS master playlist, every
// rendition.
func VideoSizes(t testing.TB, url string) (widths, heights []int) {
	t.Helper()
	var out struct {
		Streams []struct {
			CodecType string `json:"codec_type"`
			Width     int    `json:"width"`
			Height    int    `json:"height"`
		} `json:"streams"`
	}
	FFprobe(t, &out, "-show_entries", "stream=codec_type,width,height", url)
	for _, s := range out.Streams {
		if s.CodecType != "video" {
			continue
		}
		if !slices.Contains(widths, s.Width) {
			widths = append(widths, s.Width)
		}
		if !slices.Contains(heights, s.Height) {
			heights = append(heights, s.Height)
		}
	}
	slices.Sort(widths)
	slices.Sort(heights)
	return widths, heights
}
