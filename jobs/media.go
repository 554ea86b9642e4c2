package jobs

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/edgehls/edge/internal/apperr"
)

// Every file a user hands edge is hostile, and ffprobe and ffmpeg obey what
// they read: an HLS playlist or concat list named as "holiday.mp4" makes
// them open any URL or local file it lists. So a source is first judged by
// its first bytes, then read only by demuxers that never open another
// resource, through the one protocol its own location needs, and every
// later run names the demuxer the probe found instead of guessing again.

// safeDemuxers are the containers edge transcodes. None of them follows a
// reference to another file or URL (mov's external data references stay
// off, its default); playlists, manifests, concat lists and image
// sequences are absent on purpose.
const safeDemuxers = "mov,matroska,avi,flv,mpegts,mpeg,asf,ogg,mxf,dv,nut,ivf,m4v,h264,hevc,mpegvideo," +
	"wav,w64,mp3,aac,ac3,eac3,flac,aiff,caf"

// Limits bound what edge agrees to transcode; zero fields take defaults.
type Limits struct {
	MaxDuration   time.Duration // longest source (default 6 h)
	MaxResolution int           // longest side of a frame in pixels (default 8192)
	MaxTracks     int           // audio, video and other tracks together (default 16)
}

// DefaultLimits hold when a setting is not given.
var DefaultLimits = Limits{MaxDuration: 6 * time.Hour, MaxResolution: 8192, MaxTracks: 16}

func (l Limits) withDefaults() Limits {
	if l.MaxDuration <= 0 {
		l.MaxDuration = DefaultLimits.MaxDuration
	}
	if l.MaxResolution <= 0 {
		l.MaxResolution = DefaultLimits.MaxResolution
	}
	if l.MaxTracks <= 0 {
		l.MaxTracks = DefaultLimits.MaxTracks
	}
	return l
}

// maxPixels stops a decoder before it allocates a frame beyond the limit,
// so a tiny file that declares huge frames cannot take the machine's memory.
func (l Limits) maxPixels() string {
	return strconv.Itoa(l.MaxResolution * l.MaxResolution)
}

// inputArgs come before -i on every ffprobe and ffmpeg run on a source:
// only the protocols of the source's own location, only safe demuxers, the
// given demuxer if known, and a decoder frame-size cap.
func inputArgs(input, demuxer string, l Limits) []string {
	args := []string{"-protocol_whitelist", "file", "-format_whitelist", safeDemuxers,
		"-max_pixels", l.maxPixels()}
	if demuxer != "" {
		args = append(args, "-f", demuxer)
	}
	return args
}

// sniffRefusal says what a file is when its first bytes show a kind edge
// never transcodes, or "" when ffprobe may judge it. The standard
// library's MIME sniffing (the WHATWG algorithm) names images, documents
// and text; HLS playlists and concat lists are text it does not name.
func sniffRefusal(head []byte) string {
	text := bytes.TrimLeft(head, "\ufeff \t\r\n")
	switch {
	case hasPrefixFold(text, "#EXTM3U"), hasPrefixFold(text, "#EXTINF"):
		return "an M3U/HLS playlist, not a video: upload the video file itself"
	case hasPrefixFold(text, "ffconcat"):
		return "an ffmpeg concat list, not a video: upload the video file itself"
	case hasPrefixFold(text, "[playlist]"):
		return "a PLS playlist, not a video: upload the video file itself"
	}
	ct := http.DetectContentType(head)
	switch {
	case strings.HasPrefix(ct, "image/"):
		return "an image, not a video"
	case strings.HasPrefix(ct, "text/xml"):
		return "an XML document (a DASH or Smooth Streaming manifest, perhaps), not a video: upload the video file itself"
	case strings.HasPrefix(ct, "text/html"):
		return "a web page, not a video"
	case strings.HasPrefix(ct, "text/plain"):
		return "a text file, not a video"
	case ct == "application/pdf", ct == "application/postscript":
		return "a document, not a video"
	case ct == "application/zip", ct == "application/x-gzip", ct == "application/x-rar-compressed":
		return "an archive, not a video: upload the video file itself"
	}
	return ""
}

func hasPrefixFold(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && strings.EqualFold(string(b[:len(prefix)]), prefix)
}

// check refuses a probed source beyond the limits, in words the
// content team can act on.
func (l Limits) check(p probe) error {
	switch {
	case p.Tracks > l.MaxTracks:
		return apperr.Errorf(apperr.Invalid, "the file has %d tracks; edge takes at most %d", p.Tracks, l.MaxTracks)
	case max(p.Width, p.Height) > l.MaxResolution:
		return apperr.Errorf(apperr.Invalid, "the video is %d×%d; edge takes at most %d pixels on a side", p.Width, p.Height, l.MaxResolution)
	case p.Duration > l.MaxDuration:
		return apperr.Errorf(apperr.Invalid, "the video lasts %s; edge takes at most %s", roundDuration(p.Duration), roundDuration(l.MaxDuration))
	}
	return nil
}

// roundDuration writes 15h00m or 42s, not 15h0m3.2s.
func roundDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
