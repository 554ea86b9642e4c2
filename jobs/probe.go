package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"time"
)

// errNotVideo is a source that ffprobe cannot read as video: the user's
// mistake, shown to them as is.
var errNotVideo = errors.New("the file is not a video edge can read")

// probe is what the ladder needs to know about a source.
type probe struct {
	Width, Height int
	Duration      time.Duration
	HasAudio      bool
}

func probeSource(ctx context.Context, path string) (probe, error) {
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-of", "json",
		"-show_entries", "format=duration:stream=codec_type,width,height", path).Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return probe{}, errNotVideo
		}
		return probe{}, fmt.Errorf("run ffprobe: %w", err)
	}
	var raw struct {
		Format struct {
			Duration string `json:"duration"`
		} `json:"format"`
		Streams []struct {
			CodecType string `json:"codec_type"`
			Width     int    `json:"width"`
			Height    int    `json:"height"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		return probe{}, fmt.Errorf("read ffprobe output: %w", err)
	}
	var p probe
	for _, s := range raw.Streams {
		switch {
		case s.CodecType == "video" && p.Height == 0 && s.Height > 0:
			p.Width, p.Height = s.Width, s.Height
		case s.CodecType == "audio":
			p.HasAudio = true
		}
	}
	secs, _ := strconv.ParseFloat(raw.Format.Duration, 64)
	p.Duration = time.Duration(secs * float64(time.Second))
	if p.Height == 0 || p.Duration <= 0 {
		return probe{}, errNotVideo
	}
	return p, nil
}
