package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
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
	width, height             int
	peak, average             int64 // bits per second, over whole segments
	codecs                    string
	iframePeak, iframeAverage int64
	length                    time.Duration
}

// writeMaster measures every rendition under out, writes master.m3u8 and
// returns how long the top rendition is. fMP4 (cmaf) renditions get no
// I-frame playlists: a keyframe there is not a byte range a player can
// fetch alone without a fragment of its own.
func writeMaster(ctx context.Context, out string, rungs []rung, audio, cmaf bool) (time.Duration, error) {
	master := newMaster()
	all := make([]measured, len(rungs))
	for i, r := range rungs {
		m, err := measure(ctx, filepath.Join(out, r.Name()), audio, cmaf)
		if err != nil {
			return 0, fmt.Errorf("measure %s: %w", r.Name(), err)
		}
		master.Append(r.Name()+"/stream.m3u8", nil, m3u8.VariantParams{
			Bandwidth: uint32(m.peak), AverageBandwidth: uint32(m.average), Codecs: m.codecs,
			Resolution: fmt.Sprintf("%dx%d", m.width, m.height), FrameRate: r.FrameRate,
		})
		all[i] = m
	}
	if !cmaf { // I-frame variants follow the others
		for i, m := range all {
			master.Append(rungs[i].Name()+"/iframes.m3u8", nil, m3u8.VariantParams{
				Iframe: true, Bandwidth: uint32(m.iframePeak), AverageBandwidth: uint32(m.iframeAverage),
				Codecs: strings.Split(m.codecs, ",")[0], Resolution: fmt.Sprintf("%dx%d", m.width, m.height),
			})
		}
	}
	return all[0].length, os.WriteFile(filepath.Join(out, "master.m3u8"), master.Encode().Bytes(), 0o644)
}

// measure reads a rendition's playlist and segments: bitrates from sizes
// and durations, the picture and codecs from ffprobe, and writes its
// I-frame playlist.
func measure(ctx context.Context, dir string, audio, cmaf bool) (measured, error) {
	segs, err := readSegments(dir)
	if err != nil {
		return measured{}, err
	}
	m := measured{length: segmentsLength(segs)}
	m.peak, m.average = segmentRates(segs)
	names := make([]string, len(segs))
	for i, s := range segs {
		names[i] = s.uri
	}
	if cmaf {
		names = append([]string{"init.mp4"}, names[:1]...) // the picture and codecs are in the init section
	}
	pr, err := probeRendition(ctx, dir, names)
	if err != nil {
		return measured{}, err
	}
	if m.width, m.height, m.codecs, err = pr.videoCodecs(); err != nil {
		return measured{}, err
	}
	if audio {
		m.codecs += ",mp4a.40.2" // AAC-LC, as the ladder encodes it
	}
	if cmaf {
		return m, nil
	}
	m.iframePeak, m.iframeAverage, err = writeIFrames(dir, segs, pr)
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

// decodeMedia reads a media playlist (name is for errors).
func decodeMedia(r io.Reader, name string) (*m3u8.MediaPlaylist, error) {
	pl, kind, err := m3u8.DecodeFrom(r, false)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	media, ok := pl.(*m3u8.MediaPlaylist)
	if kind != m3u8.MEDIA || !ok {
		return nil, fmt.Errorf("%s is not a media playlist", name)
	}
	return media, nil
}

// readMedia reads a media playlist from a file.
func readMedia(path string) (*m3u8.MediaPlaylist, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return decodeMedia(f, filepath.Base(path))
}

// newMaster is an empty master playlist of edge's.
func newMaster() *m3u8.MasterPlaylist {
	master := m3u8.NewMasterPlaylist()
	master.SetVersion(4)
	master.SetIndependentSegments(true)
	return master
}

func readSegments(dir string) ([]segment, error) {
	media, err := readMedia(filepath.Join(dir, "stream.m3u8"))
	if err != nil {
		return nil, err
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

// renditionProbe is ffprobe's reading of a rendition's segments, read
// as one stream (concat:), so measuring costs one run per rendition.
type renditionProbe struct {
	Streams []struct {
		CodecType     string `json:"codec_type"`
		Width, Height int
		Level         int
		Profile       string
	}
	Packets []struct {
		CodecType string `json:"codec_type"`
		PTS       string `json:"pts_time"`
		Pos       string `json:"pos"`
		Flags     string `json:"flags"`
	}
}

func probeRendition(ctx context.Context, dir string, names []string) (renditionProbe, error) {
	cmd := toolCommand(ctx, "ffprobe", "-v", "error", "-of", "json",
		"-show_entries", "stream=codec_type,width,height,profile,level:packet=codec_type,pts_time,pos,flags",
		"concat:"+strings.Join(names, "|"))
	cmd.Dir = dir // relative names keep the argument short for a long video
	out, err := cmd.Output()
	if err != nil {
		return renditionProbe{}, fmt.Errorf("ffprobe %s: %w", filepath.Base(dir), err)
	}
	var pr renditionProbe
	if err := json.Unmarshal(out, &pr); err != nil {
		return renditionProbe{}, fmt.Errorf("ffprobe %s: %w", filepath.Base(dir), err)
	}
	return pr, nil
}

// videoCodecs reads the picture size and the H.264 profile and level as
// an RFC 6381 codecs string (avc1.PPCCLL).
func (pr renditionProbe) videoCodecs() (width, height int, codecs string, err error) {
	for _, s := range pr.Streams {
		if s.CodecType != "video" {
			continue
		}
		profile, ok := avcProfiles[s.Profile]
		if !ok {
			return 0, 0, "", fmt.Errorf("H.264 profile %q", s.Profile)
		}
		return s.Width, s.Height, fmt.Sprintf("avc1.%s%02x", profile, s.Level), nil
	}
	return 0, 0, "", fmt.Errorf("no video stream")
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
func writeIFrames(dir string, segs []segment, pr renditionProbe) (peak, average int64, err error) {
	kfs, inits, first := keyframes(segs, pr)
	if len(kfs) == 0 {
		return 0, 0, fmt.Errorf("no keyframes")
	}
	end := first + segmentsLength(segs).Seconds()
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

// keyframes places every keyframe in its segment (the probe's positions
// run through the segments end to end), with its length up to the next
// video packet, and gives each segment's initialization section (what
// comes before its first media packet: PAT, PMT) and the first video
// timestamp.
func keyframes(segs []segment, pr renditionProbe) (kfs []keyframe, inits []int64, first float64) {
	starts := make([]int64, len(segs)+1)
	inits = make([]int64, len(segs))
	for i, s := range segs {
		starts[i+1] = starts[i] + s.size
		inits[i] = s.size
	}
	segOf := func(pos int64) int {
		i, _ := slices.BinarySearch(starts, pos+1)
		return i - 1
	}
	first = math.Inf(1)
	var video []int64 // every video packet's position, in order
	for _, pk := range pr.Packets {
		pos, err := strconv.ParseInt(pk.Pos, 10, 64)
		if err != nil || pos < 0 || pos >= starts[len(segs)] {
			continue
		}
		seg := segOf(pos)
		inits[seg] = min(inits[seg], pos-starts[seg])
		if pk.CodecType != "video" {
			continue
		}
		pts, _ := strconv.ParseFloat(pk.PTS, 64)
		first = min(first, pts)
		video = append(video, pos)
		if strings.HasPrefix(pk.Flags, "K") {
			kfs = append(kfs, keyframe{seg: seg, pts: pts, offset: pos})
		}
	}
	for i, k := range kfs {
		end := starts[k.seg+1]
		if j, _ := slices.BinarySearch(video, k.offset+1); j < len(video) && video[j] < end {
			end = video[j]
		}
		kfs[i].length = end - k.offset
		kfs[i].offset -= starts[k.seg]
	}
	return kfs, inits, first
}

// setMap points a media playlist's EXT-X-MAP at uri.
func setMap(path, uri string) error {
	media, err := readMedia(path)
	if err != nil {
		return err
	}
	if media.Map == nil {
		return fmt.Errorf("%s has no EXT-X-MAP", filepath.Base(path))
	}
	media.Map.URI = uri
	media.ResetCache()
	return os.WriteFile(path, media.Encode().Bytes(), 0o644)
}
