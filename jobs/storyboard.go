package jobs

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// A storyboard is what the player shows over its seek bar: thumbnails every
// few seconds, 10×10 to a JPEG sheet (storyboard-N.jpg), taken by the
// ladder's own ffmpeg run from the frames it decodes anyway, and a WebVTT
// file (storyboard.vtt) whose cues name each thumbnail's sheet and box
// (#xywh=), the layout Mux and JW Player use.

const (
	storyboardTiles = 10 // a sheet is tiles × tiles thumbnails
	storyboardLong  = 160
	thumbPattern    = "thumb-%d.png" // the ladder run's thumbnails, numbered from 0, which sheets tiles
)

type storyboard struct {
	every         time.Duration
	width, height int
}

// storyboardFor spaces about 100 thumbnails over the video, from one every
// 2 s to one every 10 s, 160 px on the long side in the top rung's shape.
func storyboardFor(duration time.Duration, top rung) storyboard {
	every := time.Duration(math.Ceil(duration.Seconds()/100)) * time.Second
	sb := storyboard{every: min(max(every, 2*time.Second), 10*time.Second)}
	long, short := max(top.Width, top.Height), min(top.Width, top.Height)
	small := max(2, int(math.Round(float64(storyboardLong*short)/float64(long)/2))*2)
	sb.width, sb.height = storyboardLong, small
	if top.Height > top.Width {
		sb.width, sb.height = small, storyboardLong
	}
	return sb
}

// filter is the graph branch from one split output to the thumbnails.
func (sb storyboard) filter(from string) string {
	return fmt.Sprintf("%sfps=1/%d,scale=%d:%d,setsar=1[sb]", from, int(sb.every.Seconds()), sb.width, sb.height)
}

// outputArgs are the thumbnails' output in the ladder run, a PNG each in
// the folder thumbs, for sheets to tile. Tiled in the run itself, a sheet
// came out only with its 100th thumbnail, and ffmpeg writes no progress
// until every output has begun: the stream stood at 0% until its sheet.
func (sb storyboard) outputArgs(in input, thumbs string) []string {
	return append(append([]string{"-map", "[sb]"}, in.outputCap()...),
		"-c:v", "png", "-f", "image2", "-start_number", "0", filepath.Join(thumbs, thumbPattern))
}

// sheets tiles the thumbnails in thumbs, tiles × tiles to a JPEG, into
// storyboard-N.jpg in out; none when the picture gave no thumbnail.
func (sb storyboard) sheets(ctx context.Context, thumbs, out string) error {
	first := filepath.Join(thumbs, fmt.Sprintf(thumbPattern, 0))
	if _, err := os.Stat(first); err != nil {
		return nil
	}
	return runStep(ctx, "making the storyboard", first, "-hide_banner", "-loglevel", "error", "-y",
		"-protocol_whitelist", "file", "-f", "image2", "-framerate", "1", "-start_number", "0", "-i", filepath.Join(thumbs, thumbPattern),
		"-vf", fmt.Sprintf("tile=%dx%d", storyboardTiles, storyboardTiles),
		"-c:v", "mjpeg", "-q:v", "5", "-f", "image2", "-start_number", "0", filepath.Join(out, "storyboard-%d.jpg"))
}

// writeVTT writes storyboard.vtt for a video of the given length, one cue
// per thumbnail ffmpeg took (one at 0, then one each `every`).
func (sb storyboard) writeVTT(out string, length time.Duration) error {
	var b strings.Builder
	b.WriteString("WEBVTT\n")
	perSheet := storyboardTiles * storyboardTiles
	for i := 0; time.Duration(i)*sb.every < length; i++ {
		sheet := fmt.Sprintf("storyboard-%d.jpg", i/perSheet)
		if _, err := os.Stat(filepath.Join(out, sheet)); err != nil {
			break // ffmpeg took fewer (the picture ended early)
		}
		from, to := time.Duration(i)*sb.every, min(time.Duration(i+1)*sb.every, length)
		x, y := (i%storyboardTiles)*sb.width, (i%perSheet/storyboardTiles)*sb.height
		fmt.Fprintf(&b, "\n%s --> %s\n%s#xywh=%d,%d,%d,%d\n", vttTime(from), vttTime(to), sheet, x, y, sb.width, sb.height)
	}
	return os.WriteFile(filepath.Join(out, "storyboard.vtt"), []byte(b.String()), 0o644)
}

func vttTime(d time.Duration) string {
	ms := d.Milliseconds()
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}
