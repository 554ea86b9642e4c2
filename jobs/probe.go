package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/edgehls/edge/internal/apperr"
)

// errNotVideo is a source that ffprobe cannot read as video: the user's
// mistake, shown to them as is.
var errNotVideo = apperr.New(apperr.Invalid, "the file is not a video or audio file edge can read")

// probe is what the ladder needs to know about a source.
type probe struct {
	Demuxer       string // ffmpeg's name for the container, given to every later run
	Width, Height int    // coded frame size
	// DisplayWidth and DisplayHeight are the picture as it is meant to be
	// seen: pixel aspect ratio applied and a rotation (a phone held upright)
	// turned, as ffmpeg's autorotate will turn it.
	DisplayWidth, DisplayHeight int
	FrameRate                   float64 // average frames per second; a VFR source's mean
	HDR                         bool    // PQ or HLG transfer: tone-mapped to SDR
	Duration                    time.Duration
	HasAudio                    bool
	CoverArt                    bool // an attached picture, as in a podcast's file: not a video
	Tracks                      int
}

// sniffLen is how much of a file its first-bytes judgement reads: what
// MIME sniffing looks at, with room for a byte-order mark and blank lines.
const sniffLen = 4096

// probeAttempts: ffprobe killed by a signal (the OOM killer, an operator)
// says nothing about the file, so it is asked again before giving up.
const probeAttempts = 3

// judgeSource decides whether a source is a video edge will transcode: by
// its first bytes (head), then by ffprobe under the safe input options,
// then against the limits. input is a local path.
func judgeSource(ctx context.Context, input string, head []byte, l Limits) (probe, error) {
	l = l.withDefaults()
	if what := sniffRefusal(head); what != "" {
		return probe{}, apperr.New(apperr.Invalid, "the file is "+what)
	}
	out, err := runProbe(ctx, input, l)
	if err != nil {
		return probe{}, err
	}
	p, err := parseProbe(out)
	if err != nil {
		return probe{}, err
	}
	return p, l.check(p)
}

// judgeFile judges a local file.
func judgeFile(ctx context.Context, path string, l Limits) (probe, error) {
	head, err := readHead(path)
	if err != nil {
		return probe{}, err
	}
	return judgeSource(ctx, path, head, l)
}

func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open source: %w", err)
	}
	defer f.Close()
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read source: %w", err)
	}
	return head[:n], nil
}

func runProbe(ctx context.Context, input string, l Limits) ([]byte, error) {
	args := append([]string{"-v", "error", "-of", "json",
		"-show_entries", "format=format_name,duration:stream=codec_type,width,height,sample_aspect_ratio,avg_frame_rate,r_frame_rate,color_transfer:stream_tags=rotate:stream_side_data=rotation:stream_disposition=attached_pic"},
		inputArgs(input, "", l)...)
	args = append(args, "-i", input)
	for attempt := 1; ; attempt++ {
		var stderr bytes.Buffer
		cmd := toolCommand(ctx, "ffprobe", args...)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err == nil {
			return out, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return nil, fmt.Errorf("run ffprobe: %w", err)
		}
		if !killedBySignal(exit) {
			return nil, probeRefusal(stderr.String())
		}
		if attempt == probeAttempts {
			return nil, fmt.Errorf("ffprobe was killed %d times (%s): the file was not judged", attempt, exit)
		}
	}
}

func killedBySignal(exit *exec.ExitError) bool {
	return exit.ExitCode() == -1 // what os.ProcessState reports for a signal
}

// probeRefusal turns ffprobe's complaint into words for the content team.
func probeRefusal(stderr string) error {
	switch {
	case strings.Contains(stderr, "exceeds specified max pixel count"):
		return apperr.New(apperr.Invalid, "the video's frames are larger than edge takes")
	case strings.Contains(stderr, "not on whitelist"):
		return apperr.New(apperr.Invalid, "the file's container is not one edge reads (MP4, MOV, MKV, WebM, AVI, MPEG-TS, …)")
	}
	return errNotVideo
}

// probeStream is one stream as ffprobe describes it.
type probeStream struct {
	CodecType     string `json:"codec_type"`
	Width         int    `json:"width"`
	Height        int    `json:"height"`
	SAR           string `json:"sample_aspect_ratio"`
	AvgFrameRate  string `json:"avg_frame_rate"`
	RealFrameRate string `json:"r_frame_rate"`
	ColorTransfer string `json:"color_transfer"`
	Tags          struct {
		Rotate string `json:"rotate"`
	} `json:"tags"`
	SideData []struct {
		Rotation *float64 `json:"rotation"`
	} `json:"side_data_list"`
	Disposition struct {
		AttachedPic int `json:"attached_pic"`
	} `json:"disposition"`
}

func parseProbe(out []byte) (probe, error) {
	var raw struct {
		Format struct {
			FormatName string `json:"format_name"`
			Duration   string `json:"duration"`
		} `json:"format"`
		Streams []probeStream `json:"streams"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		return probe{}, fmt.Errorf("read ffprobe output: %w", err)
	}
	p := probe{Tracks: len(raw.Streams)}
	p.Demuxer, _, _ = strings.Cut(raw.Format.FormatName, ",")
	for _, s := range raw.Streams {
		switch {
		case s.CodecType == "video" && s.Disposition.AttachedPic == 1:
			p.CoverArt = true
		case s.CodecType == "video" && p.Height == 0 && s.Height > 0:
			p.readVideo(s)
		case s.CodecType == "audio":
			p.HasAudio = true
		}
	}
	secs, _ := strconv.ParseFloat(raw.Format.Duration, 64)
	p.Duration = time.Duration(secs * float64(time.Second))
	if (p.Height == 0 && !p.HasAudio) || p.Duration <= 0 || p.Demuxer == "" {
		return probe{}, errNotVideo
	}
	return p, nil
}

func (p *probe) readVideo(s probeStream) {
	p.Width, p.Height = s.Width, s.Height
	p.DisplayWidth, p.DisplayHeight = s.Width, s.Height
	if num, den, ok := ratio(s.SAR); ok && num > 0 && num != den {
		p.DisplayWidth = int(float64(s.Width)*num/den + 0.5)
	}
	if quarterTurned(s) {
		p.DisplayWidth, p.DisplayHeight = p.DisplayHeight, p.DisplayWidth
	}
	p.FrameRate = frameRate(s)
	p.HDR = s.ColorTransfer == "smpte2084" || s.ColorTransfer == "arib-std-b67"
}

// quarterTurned says whether the display matrix (or the older rotate tag)
// turns the picture by 90° or 270°.
func quarterTurned(s probeStream) bool {
	deg, _ := strconv.ParseFloat(s.Tags.Rotate, 64)
	for _, sd := range s.SideData {
		if sd.Rotation != nil {
			deg = *sd.Rotation
		}
	}
	turns := int(math.Round(deg/90)) % 2
	return turns != 0
}

// frameRate is the average rate, which a variable-frame-rate source keeps
// as its mean; the nominal rate stands in when the average is unknown.
func frameRate(s probeStream) float64 {
	for _, r := range []string{s.AvgFrameRate, s.RealFrameRate} {
		if num, den, ok := ratio(r); ok && num > 0 {
			if fps := num / den; fps >= 1 && fps <= 1000 {
				return fps
			}
		}
	}
	return 30
}

// ratio reads ffprobe's "a/b" or "a:b" with a positive denominator.
func ratio(s string) (num, den float64, ok bool) {
	a, b, found := strings.Cut(strings.ReplaceAll(s, ":", "/"), "/")
	if !found {
		return 0, 0, false
	}
	num, err1 := strconv.ParseFloat(a, 64)
	den, err2 := strconv.ParseFloat(b, 64)
	return num, den, err1 == nil && err2 == nil && den > 0 && num >= 0
}
