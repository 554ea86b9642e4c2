package jobs

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The ladder's ffmpeg run: one decode, one filter graph that makes the
// picture constant-rate 8-bit SDR once and scales it per rung (and for the
// storyboard), H.264 High in capped VBR with a keyframe every 2 s, stereo
// AAC in every variant, and 4 s MPEG-TS segments in the guide's layout. The master playlist is not
// ffmpeg's: edge writes it from the measured output (master.go).

// toSDR tone-maps PQ or HLG to BT.709 (zscale, then Hable's curve), so an
// HDR phone video does not come out grey and washed out.
const toSDR = "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0," +
	"zscale=t=bt709:m=bt709:r=tv,format=yuv420p"

// videoFilter is the graph from the (autorotated) source to one output
// per rung: square pixels, even sizes, the rung's frame rate.
// One more split output feeds the storyboard's thumbnails.
func videoFilter(p probe, rungs []rung, sb storyboard) string {
	pre := "format=yuv420p"
	if p.HDR {
		pre = toSDR
	}
	g := fmt.Sprintf("[0:v]fps=%s,%s,split=%d", fpsArg(rungs[0].FrameRate), pre, len(rungs)+1)
	for i := range len(rungs) + 1 {
		g += fmt.Sprintf("[s%d]", i)
	}
	for i, r := range rungs {
		g += fmt.Sprintf(";[s%d]scale=%d:%d:out_color_matrix=bt709:out_range=tv,setsar=1[v%d]", i, r.Width, r.Height, i)
	}
	return g + ";" + sb.filter(fmt.Sprintf("[s%d]", len(rungs)))
}

// fpsArg writes a rate as ffmpeg reads it, exactly for the NTSC rates.
func fpsArg(fps float64) string {
	for _, base := range []int{24, 30, 60} {
		if ntsc := float64(base) * 1000 / 1001; fps > ntsc-0.005 && fps < ntsc+0.005 {
			return strconv.Itoa(base*1000) + "/1001"
		}
	}
	return strconv.FormatFloat(fps, 'f', -1, 64)
}

// encoding is how the ladder is encoded and packaged.
type encoding struct {
	quality string // low, medium or high
	cmaf    bool   // fMP4 segments instead of MPEG-TS
}

// ladderArgs are the ladder run's arguments, the source's input options first.
func ladderArgs(in input, out, thumbs string, rungs []rung, sb storyboard, enc encoding) []string {
	audio := in.probe.HasAudio
	var maps, streamMap []string
	for i, r := range rungs {
		maps = append(maps, "-map", fmt.Sprintf("[v%d]", i))
		entry := fmt.Sprintf("v:%d", i)
		if audio {
			maps = append(maps, "-map", "0:a:0")
			entry += fmt.Sprintf(",a:%d", i)
		}
		streamMap = append(streamMap, entry+",name:"+r.Name())
	}
	args := append(in.args(), "-filter_complex", videoFilter(in.probe, rungs, sb))
	args = append(args, maps...)
	args = append(args, "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high",
		"-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
		// A keyframe every 2 s whatever the frame rate, so every segment starts cleanly.
		"-force_key_frames", "expr:gte(t,n_forced*2)", "-sc_threshold", "0")
	for i, r := range rungs {
		target, maxrate, bufsize := r.rates(enc.quality)
		args = append(args, fmt.Sprintf("-b:v:%d", i), target, fmt.Sprintf("-maxrate:v:%d", i), maxrate, fmt.Sprintf("-bufsize:v:%d", i), bufsize)
	}
	if audio {
		args = append(args, "-c:a", "aac", "-b:a", "128k", "-ac", "2")
	}
	args = append(args, in.outputCap()...)
	args = append(args, "-f", "hls", "-hls_time", "4", "-hls_playlist_type", "vod", "-hls_flags", "independent_segments")
	segment := "segment-%d.ts"
	if enc.cmaf {
		segment = "segment-%d.m4s"
		args = append(args, "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4")
	}
	args = append(args, "-hls_segment_filename", filepath.Join(out, "%v", segment),
		"-var_stream_map", strings.Join(streamMap, " "), filepath.Join(out, "%v", "stream.m3u8"))
	return append(args, sb.outputArgs(in, thumbs)...)
}

// nameInitSections gives each rendition's fMP4 initialization section the
// layout's name, init.mp4: with several renditions ffmpeg numbers them
// (init_0.mp4, init_1.mp4…). The playlist's EXT-X-MAP follows.
func nameInitSections(out string, rungs []rung) error {
	for i, r := range rungs {
		dir := filepath.Join(out, r.Name())
		numbered := filepath.Join(dir, fmt.Sprintf("init_%d.mp4", i))
		if _, err := os.Stat(numbered); err == nil {
			if err := os.Rename(numbered, filepath.Join(dir, "init.mp4")); err != nil {
				return fmt.Errorf("name the init section: %w", err)
			}
		}
		if err := setMap(filepath.Join(dir, "stream.m3u8"), "init.mp4"); err != nil {
			return err
		}
	}
	return nil
}
