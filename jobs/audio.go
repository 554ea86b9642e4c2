package jobs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/grafov/m3u8"
)

// An audio-only source (a podcast's .m4a or .mp3) becomes an audio-only
// stream: one variant, audio/stream.m3u8, stereo AAC in 4 s MPEG-TS
// segments, under a master edge writes from the measured output like a
// video's. Its cover art, when the file has one, is the poster.

// audioRendition names the one variant of an audio-only stream.
const audioRendition = "audio"

func encodeAudio(ctx context.Context, in input, out string, _ encoding, progress func(int)) (Result, error) {
	args := append(in.args(), "-map", "0:a:0", "-vn", "-c:a", "aac", "-b:a", "128k", "-ac", "2")
	args = append(args, in.outputCap()...)
	args = append(args, "-f", "hls", "-hls_time", "4", "-hls_playlist_type", "vod",
		"-hls_segment_filename", filepath.Join(out, audioRendition, "segment-%d.ts"), filepath.Join(out, audioRendition, "stream.m3u8"))
	if err := os.MkdirAll(filepath.Join(out, audioRendition), 0o755); err != nil {
		return Result{}, err
	}
	complaints, err := runFFmpeg(ctx, in, args, progress)
	if err != nil {
		return Result{}, err
	}
	length, err := writeAudioMaster(filepath.Join(out, audioRendition), filepath.Join(out, "master.m3u8"))
	if err != nil {
		return Result{}, fmt.Errorf("write the master playlist: %w", err)
	}
	res := Result{Renditions: []string{audioRendition}, Duration: length, Warning: shortfall(in.probe.Duration, length, complaints)}
	if in.probe.CoverArt {
		if err := makeCover(ctx, in, filepath.Join(out, "poster.jpg")); err != nil {
			return Result{}, err
		}
		res.PosterKey = "poster.jpg"
	}
	return res, nil
}

// writeAudioMaster writes the master of an audio-only stream and returns
// how long the stream is.
func writeAudioMaster(dir, path string) (time.Duration, error) {
	segs, err := readSegments(dir)
	if err != nil {
		return 0, err
	}
	peak, average := segmentRates(segs)
	master := newMaster()
	master.Append(audioRendition+"/stream.m3u8", nil, m3u8.VariantParams{
		Bandwidth: uint32(peak), AverageBandwidth: uint32(average), Codecs: "mp4a.40.2"})
	return segmentsLength(segs), os.WriteFile(path, master.Encode().Bytes(), 0o644)
}

// makeCover writes the file's attached picture, no larger than 720 on a
// side, as the poster.
func makeCover(ctx context.Context, in input, dst string) error {
	return grabFrame(ctx, in, "reading the cover art", nil, "-map", "0:v:0",
		"-vf", "scale='min(720,iw)':'min(720,ih)':force_original_aspect_ratio=decrease:force_divisible_by=2,setsar=1", dst)
}
