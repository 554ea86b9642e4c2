package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/grafov/m3u8"
)

// edge writes the master playlist itself, from the output as it came out
// rather than from the encoder's settings: RFC 8216 makes BANDWIDTH the
// peak segment bitrate, and a player that trusts a lower figure stalls.
// Each variant also gets an I-frame playlist (iframes.m3u8) for scrubbing.
// Playlists are read and written with grafov/m3u8, not by hand.

// measured is one rendition as it came out.
type measured struct {
	name                      string
	width, height             int
	frameRate                 float64
	peak, average             int64 // bits per second, over whole segments
	codecs                    string
	iframePeak, iframeAverage int64
	length                    time.Duration
}

// writeMaster measures every rendition under out, writes master.m3u8 and
// returns how long the top rendition is.
func writeMaster(ctx context.Context, out string, rungs []rung, audio bool) (time.Duration, error) {
	master := m3u8.NewMasterPlaylist()
	master.SetVersion(4)
	master.SetIndependentSegments(true)
	var iframes []measured
	for _, r := range rungs {
		m, err := measure(ctx, filepath.Join(out, r.Name()), audio)
		if err != nil {
			return 0, fmt.Errorf("measure %s: %w", r.Name(), err)
		}
		m.name, m.frameRate = r.Name(), r.FrameRate
		master.Append(m.name+"/stream.m3u8", nil, m3u8.VariantParams{
			Bandwidth: uint32(m.peak), AverageBandwidth: uint32(m.average), Codecs: m.codecs,
			Resolution: fmt.Sprintf("%dx%d", m.width, m.height), FrameRate: m.frameRate,
		})
		iframes = append(iframes, m)
	}
	for _, m := range iframes {
		master.Append(m.name+"/iframes.m3u8", nil, m3u8.VariantParams{
			Iframe: true, Bandwidth: uint32(m.iframePeak), AverageBandwidth: uint32(m.iframeAverage),
			Codecs: strings.Split(m.codecs, ",")[0], Resolution: fmt.Sprintf("%dx%d", m.width, m.height),
		})
	}
	return iframes[0].length, os.WriteFile(filepath.Join(out, "master.m3u8"), master.Encode().Bytes(), 0o644)
}

// measure reads a rendition's playlist and segments: bitrates from sizes
// and durations, the picture and codecs from ffprobe, and writes its
// I-frame playlist.
func measure(ctx context.Context, dir string, audio bool) (measured, error) {
	segs, err := readSegments(dir)
	if err != nil {
		return measured{}, err
	}
	m := measured{length: segmentsLength(segs)}
	m.peak, m.average = segmentRates(segs)
	if m.width, m.height, m.codecs, err = videoCodecs(ctx, filepath.Join(dir, segs[0].uri)); err != nil {
		return measured{}, err
	}
	if audio {
		m.codecs += ",mp4a.40.2" // AAC-LC, as the ladder encodes it
	}
	m.iframePeak, m.iframeAverage, err = writeIFrames(ctx, dir, segs)
	return m, err
}

// segmentRates are the peak segment bitrate and the mean, in bits/s.
func segmentRates(segs []segment) (peak, average int64) {
	var bits, secs float64
	for _, s := range segs {
		rate := float64(s.size*8) / s.duration
		peak = max(peak, int64(math.Ceil(rate)))
		bits, secs = bits+float64(s.size*8), secs+s.duration
	}
	return peak, int64(math.Ceil(bits / secs))
}

// segmentsLength is how long a rendition plays: its segments' durations.
func segmentsLength(segs []segment) time.Duration {
	var secs float64
	for _, s := range segs {
		secs += s.duration
	}
	return time.Duration(secs * float64(time.Second))
}

// segment is one media segment of a rendition.
type segment struct {
	uri      string
	duration float64
	size     int64
}

func readSegments(dir string) ([]segment, error) {
	f, err := os.Open(filepath.Join(dir, "stream.m3u8"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pl, kind, err := m3u8.DecodeFrom(f, true)
	if err != nil {
		return nil, fmt.Errorf("read stream.m3u8: %w", err)
	}
	media, ok := pl.(*m3u8.MediaPlaylist)
	if kind != m3u8.MEDIA || !ok {
		return nil, fmt.Errorf("stream.m3u8 is not a media playlist")
	}
	var segs []segment
	for _, s := range media.GetAllSegments() {
		st, err := os.Stat(filepath.Join(dir, s.URI))
		if err != nil {
			return nil, err
		}
		if s.Duration > 0 {
			segs = append(segs, segment{s.URI, s.Duration, st.Size()})
		}
	}
	if len(segs) == 0 {
		return nil, fmt.Errorf("stream.m3u8 lists no segments")
	}
	return segs, nil
}

// videoCodecs reads a segment's picture size and its H.264 profile and
// level as an RFC 6381 codecs string (avc1.PPCCLL).
func videoCodecs(ctx context.Context, path string) (width, height int, codecs string, err error) {
	out, err := toolCommand(ctx, "ffprobe", "-v", "error", "-select_streams", "v:0", "-of", "json",
		"-show_entries", "stream=width,height,profile,level", path).Output()
	if err != nil {
		return 0, 0, "", fmt.Errorf("ffprobe %s: %w", filepath.Base(path), err)
	}
	var raw struct {
		Streams []struct {
			Width, Height, Level int
			Profile              string
		}
	}
	if err := json.Unmarshal(out, &raw); err != nil || len(raw.Streams) == 0 {
		return 0, 0, "", fmt.Errorf("ffprobe %s: no video stream", filepath.Base(path))
	}
	s := raw.Streams[0]
	profile, ok := avcProfiles[s.Profile]
	if !ok {
		return 0, 0, "", fmt.Errorf("ffprobe %s: H.264 profile %q", filepath.Base(path), s.Profile)
	}
	return s.Width, s.Height, fmt.Sprintf("avc1.%s%02x", profile, s.Level), nil
}

// avcProfiles are profile_idc and the constraint flags, in hex.
var avcProfiles = map[string]string{"Constrained Baseline": "42e0", "Baseline": "4200", "Main": "4d40", "High": "6400"}

// keyframe is where one I-frame lies.
type keyframe struct {
	seg            int
	pts            float64
	offset, length int64
}

// writeIFrames writes iframes.m3u8: every keyframe as a byte range of its
// segment, with that segment's PAT and PMT as its EXT-X-MAP, so a player
// can fetch and decode any one alone. It returns the I-frame playlist's
// peak and average bitrates.
func writeIFrames(ctx context.Context, dir string, segs []segment) (peak, average int64, err error) {
	var kfs []keyframe
	var inits []int64
	end := 0.0
	for i, s := range segs {
		k, init, first, err := segmentKeyframes(ctx, filepath.Join(dir, s.uri), s.size)
		if err != nil {
			return 0, 0, err
		}
		for j := range k {
			k[j].seg = i
		}
		kfs, inits = append(kfs, k...), append(inits, init)
		end = max(end, first) + s.duration
	}
	if len(kfs) == 0 {
		return 0, 0, fmt.Errorf("no keyframes")
	}
	pl, err := m3u8.NewMediaPlaylist(0, uint(len(kfs)))
	if err != nil {
		return 0, 0, err
	}
	pl.MediaType = m3u8.VOD
	pl.SetIframeOnly()
	var bits float64
	for i, k := range kfs {
		next := end
		if i+1 < len(kfs) {
			next = kfs[i+1].pts
		}
		dur := max(next-k.pts, 0.001)
		if err := pl.Append(segs[k.seg].uri, dur, ""); err != nil {
			return 0, 0, err
		}
		pl.SetRange(k.length, k.offset)
		if i == 0 || kfs[i-1].seg != k.seg {
			pl.SetMap(segs[k.seg].uri, inits[k.seg], 0)
		}
		rate := float64((k.length+inits[k.seg])*8) / dur
		peak = max(peak, int64(math.Ceil(rate)))
		bits += float64((k.length + inits[k.seg]) * 8)
	}
	pl.Close()
	average = int64(math.Ceil(bits / (end - kfs[0].pts)))
	return peak, average, os.WriteFile(filepath.Join(dir, "iframes.m3u8"), pl.Encode().Bytes(), 0o644)
}

// segmentKeyframes lists a segment's keyframes, the size of what comes
// before its first media packet (PAT, PMT: the MPEG-TS initialization
// section), and the segment's first video timestamp.
func segmentKeyframes(ctx context.Context, path string, size int64) (kfs []keyframe, init int64, first float64, err error) {
	out, err := toolCommand(ctx, "ffprobe", "-v", "error", "-of", "json",
		"-show_entries", "packet=codec_type,pts_time,pos,flags", path).Output()
	if err != nil {
		return nil, 0, 0, fmt.Errorf("ffprobe %s: %w", filepath.Base(path), err)
	}
	var raw struct {
		Packets []struct {
			CodecType string `json:"codec_type"`
			PTS       string `json:"pts_time"`
			Pos       string `json:"pos"`
			Flags     string `json:"flags"`
		} `json:"packets"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		return nil, 0, 0, fmt.Errorf("ffprobe %s: %w", filepath.Base(path), err)
	}
	init, first = size, math.Inf(1)
	var videoPos []int64
	for _, pk := range raw.Packets {
		pts, _ := strconv.ParseFloat(pk.PTS, 64)
		pos, perr := strconv.ParseInt(pk.Pos, 10, 64)
		if perr != nil {
			continue
		}
		init = min(init, pos)
		if pk.CodecType != "video" {
			continue
		}
		first = min(first, pts)
		videoPos = append(videoPos, pos)
		if strings.HasPrefix(pk.Flags, "K") {
			kfs = append(kfs, keyframe{pts: pts, offset: pos, length: -1})
		}
	}
	for i := range kfs {
		kfs[i].length = size - kfs[i].offset
		for _, p := range videoPos {
			if p > kfs[i].offset {
				kfs[i].length = p - kfs[i].offset
				break
			}
		}
	}
	return kfs, init, first, nil
}
