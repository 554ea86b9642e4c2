package jobs

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/storage"
)

// Result is what a finished transcode produced.
type Result struct {
	Duration   time.Duration
	Renditions []string
	PosterKey  string
	// Width and Height are the top rendition's picture; 0 when unknown.
	Width, Height int
	// Warning says how the output falls short of the source: cut short,
	// or decode errors met on the way. Empty when it does not.
	Warning string
}

// Transcoder turns a source into an HLS package under streams/<id>/.
type Transcoder interface {
	Name() string
	Transcode(ctx context.Context, streamID, source string, progress func(percent int)) (Result, error)
}

// FFmpeg transcodes with the local ffmpeg and writes the package to storage
// in the guide's layout: master.m3u8, <h>p/stream.m3u8, <h>p/segment-N.ts.
type FFmpeg struct {
	Store   storage.Store // where the HLS package is written
	Sources storage.Store // where sources are read; nil: Store
	Quality string        // low, medium or high (default high): scales the ladder's bitrates
	// Packaging is "ts" (default: MPEG-TS segments, the guide's layout) or
	// "cmaf" (fMP4: init.mp4 and segment-N.m4s, no I-frame playlists).
	Packaging string
	TempDir   string // where sources and outputs are staged; "" for the system's
	Limits    Limits // what sources are refused; zero fields: DefaultLimits
	Log       *slog.Logger
}

func (f *FFmpeg) Name() string { return "ffmpeg" }

func (f *FFmpeg) Transcode(ctx context.Context, streamID, source string, progress func(int)) (Result, error) {
	work, err := os.MkdirTemp(f.TempDir, TempPrefix+"job-")
	if err != nil {
		return Result{}, fmt.Errorf("make work folder: %w", err)
	}
	defer os.RemoveAll(work)
	src, out := filepath.Join(work, "source"), filepath.Join(work, "out")
	if err := f.download(ctx, source, src); err != nil {
		return Result{}, err
	}
	limits := f.Limits.withDefaults()
	p, err := judgeFile(ctx, src, limits)
	if err != nil {
		return Result{}, err
	}
	in := input{path: src, probe: p, limits: limits, log: cmp.Or(f.Log, slog.New(slog.DiscardHandler))}
	encode := encodeVideo
	if p.Height == 0 {
		encode = encodeAudio
	}
	res, err := encode(ctx, in, out, encoding{quality: f.Quality, cmaf: f.Packaging == "cmaf"}, progress)
	if err != nil {
		return Result{}, err
	}
	prefix := streamPrefix(streamID)
	if err := storage.PutDir(ctx, f.Store, out, prefix, "master.m3u8"); err != nil {
		return Result{}, err
	}
	if res.PosterKey != "" {
		res.PosterKey = prefix + res.PosterKey
	}
	return res, nil
}

// download copies the source from storage to a local file ffmpeg can seek.
func (f *FFmpeg) download(ctx context.Context, source, dst string) error {
	if strings.HasPrefix(source, "s3://") {
		return apperr.New(apperr.Invalid, "the ffmpeg transcoder reads sources from edge's own storage: give a storage key such as uploads/talk.mp4, not an s3:// URL")
	}
	obj, err := cmp.Or(f.Sources, f.Store).Get(ctx, source, nil)
	if errors.Is(err, storage.ErrNotFound) {
		return apperr.Errorf(apperr.Invalid, "the source %s is no longer in storage", source)
	} else if err != nil {
		return fmt.Errorf("open source %s: %w", source, err)
	}
	defer obj.Body.Close()
	file, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("stage source: %w", err)
	}
	_, err = io.Copy(file, obj.Body)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download source %s: %w", source, err)
	}
	return nil
}

// input is a judged source, as every ffmpeg run after the probe reads it.
type input struct {
	path   string
	probe  probe
	limits Limits
	log    *slog.Logger
}

// args are ffmpeg's input options and -i: the safe options, the demuxer the
// probe found, and the source.
func (in input) args() []string {
	return append(inputArgs(in.path, in.probe.Demuxer, in.limits), "-i", in.path)
}

// outputCap stops the output at the probed duration (plus a margin for
// rounding), so timestamps that run on past what the container declared
// cannot turn a small file into hours of encoding.
func (in input) outputCap() []string {
	return []string{"-t", strconv.FormatFloat((in.probe.Duration + 5*time.Second).Seconds(), 'f', 3, 64)}
}

// encodeVideo makes the ladder, its measured master and the poster in out.
func encodeVideo(ctx context.Context, in input, out string, enc encoding, progress func(int)) (Result, error) {
	rungs := ladderFor(in.probe)
	sb := storyboardFor(in.probe.Duration, rungs[0])
	// The thumbnails go beside out, whose whole is the package; the HLS
	// muxer makes only its own folders.
	thumbs := out + "-thumbs"
	for _, dir := range []string{out, thumbs} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return Result{}, err
		}
	}
	complaints, err := runFFmpeg(ctx, in, ladderArgs(in, out, thumbs, rungs, sb, enc), progress)
	if err != nil {
		return Result{}, err
	}
	if err := sb.sheets(ctx, thumbs, out); err != nil {
		return Result{}, err
	}
	if enc.cmaf {
		if err := nameInitSections(out, rungs); err != nil {
			return Result{}, err
		}
	}
	length, err := writeMaster(ctx, out, rungs, in.probe.HasAudio, enc.cmaf)
	if err != nil {
		return Result{}, fmt.Errorf("write the master playlist: %w", err)
	}
	if err := makePoster(ctx, in, rungs, filepath.Join(out, "poster.jpg")); err != nil {
		return Result{}, err
	}
	if err := sb.writeVTT(out, length); err != nil {
		return Result{}, fmt.Errorf("write the storyboard: %w", err)
	}
	res := Result{PosterKey: "poster.jpg", Width: rungs[0].Width, Height: rungs[0].Height,
		Duration: length, Warning: shortfall(in.probe.Duration, length, complaints)}
	for _, r := range rungs {
		res.Renditions = append(res.Renditions, r.Name())
	}
	return res, nil
}

// runFFmpeg runs ffmpeg with args (the source's input options, then the
// outputs'), reporting progress from its -progress output. A run that
// succeeds returns how many complaints ffmpeg made on the way (at
// -loglevel error: the source's decode errors).
func runFFmpeg(ctx context.Context, in input, args []string, progress func(int)) (complaints int, err error) {
	args = append([]string{"-hide_banner", "-nostats", "-loglevel", "error", "-progress", "pipe:1", "-stats_period", "0.25", "-y"}, args...)
	in.log.Debug("running ffmpeg", "args", args) // bench/transcode.sh replays them as bare ffmpeg
	cmd := toolCommand(ctx, "ffmpeg", args...)
	var stderr logTail
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start ffmpeg: %w", err)
	}
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		v, ok := strings.CutPrefix(lines.Text(), "out_time_us=")
		if us, err := strconv.ParseInt(v, 10, 64); ok && err == nil && us > 0 {
			progress(min(99, int(time.Duration(us)*time.Microsecond*100/in.probe.Duration)))
		}
	}
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, toolFailure("ffmpeg", err, string(stderr.tail), in.path)
	}
	return stderr.lines, nil
}

// logTail counts a tool's complaint lines and keeps only the last 16 KiB
// of them: a damaged hour-long file can make ffmpeg say millions.
type logTail struct {
	lines int
	tail  []byte
}

func (l *logTail) Write(b []byte) (int, error) {
	l.lines += bytes.Count(b, []byte("\n"))
	l.tail = append(l.tail, b...)
	if over := len(l.tail) - 16<<10; over > 0 {
		l.tail = append(l.tail[:0], l.tail[over:]...)
	}
	return len(b), nil
}

// makePoster grabs a frame at 1 s in the shape of the 720p rung (or the
// top rung, when smaller), square pixels: the size the web layer gives as
// the poster's (web/shape.go).
func makePoster(ctx context.Context, in input, rungs []rung, dst string) error {
	size := rungs[len(rungs)-1]
	for _, r := range rungs {
		if r.Short <= 720 {
			size = r
			break
		}
	}
	at := min(time.Second, in.probe.Duration/2)
	return grabFrame(ctx, in, "making the poster", []string{"-ss", strconv.FormatFloat(at.Seconds(), 'f', 3, 64)},
		"-vf", fmt.Sprintf("scale=%d:%d,setsar=1", size.Width, size.Height), dst)
}

// grabFrame writes one picture of the source as a JPEG: seek are input
// options (before -i), out the output's.
func grabFrame(ctx context.Context, in input, what string, seek []string, out ...string) error {
	args := append(append([]string{"-hide_banner", "-loglevel", "error", "-y"}, seek...), in.args()...)
	args = append(append(append(args, "-frames:v", "1"), out[:len(out)-1]...), "-q:v", "3", out[len(out)-1])
	return runStep(ctx, what, in.path, args...)
}

// runStep runs a short ffmpeg step of a transcode (a picture, the
// storyboard's sheets), whose failure fails the transcode: what names the
// step for the content team, source is the file ffmpeg reads.
func runStep(ctx context.Context, what, source string, args ...string) error {
	output, err := toolCommand(ctx, "ffmpeg", args...).CombinedOutput()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return toolFailure(what, err, string(output), source)
	}
	return nil
}

// toolFailure words a failed ffmpeg run for the content team: its last
// complaint without edge's own paths (the source is "source"), or how it
// ended when it said nothing, as when it is killed.
func toolFailure(what string, err error, output, source string) error {
	line := strings.ReplaceAll(lastLine(output), filepath.Dir(source)+string(filepath.Separator), "")
	if line == "" {
		line = "it stopped without a message (" + err.Error() + ")"
	}
	return apperr.New(apperr.Invalid, what+" failed: "+line)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// shortfall words how an output falls short of its source for the
// content team: a stream noticeably shorter than its container declared
// was cut short (an upload or a recording that did not finish); otherwise
// decode errors may show as glitches. What came out is ready and plays:
// the team decides whether to upload the file again.
func shortfall(declared, got time.Duration, complaints int) string {
	if missing := declared - got; missing > max(time.Second, declared/20) {
		return fmt.Sprintf("The video plays for %s, but its file says %s: the file looks cut short (an upload or a recording that did not finish). What is there plays; upload the whole file again to replace it.",
			roundDuration(got), roundDuration(declared))
	}
	if complaints > 0 {
		return fmt.Sprintf("ffmpeg met %d errors reading this file: parts of the video may show glitches. Upload the original file again if they do.", complaints)
	}
	return ""
}
