package jobs

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestLadderNeverUpscales(t *testing.T) {
	for h, want := range map[int]string{
		2160: "[1080p 720p 480p 360p]", 1080: "[1080p 720p 480p 360p]", 1079: "[720p 480p 360p]",
		720: "[720p 480p 360p]", 500: "[480p 360p]", 360: "[360p]", 241: "[240p]", 1: "[2p]",
	} {
		var names []string
		for _, r := range ladderFor(h) {
			names = append(names, r.Name())
		}
		if got := fmt.Sprint(names); got != want {
			t.Errorf("ladderFor(%d) = %s, want %s", h, got, want)
		}
	}
}

func TestQualityScalesBitrates(t *testing.T) {
	r := rung{720, 2800}
	for q, want := range map[string]string{"high": "2800k", "medium": "2100k", "low": "1400k", "": "2800k"} {
		if got := r.bitrate(q); got != want {
			t.Errorf("%q: %s, want %s", q, got, want)
		}
	}
	args := fmt.Sprint(ladderArgs(input{path: "in.mp4", probe: probe{Demuxer: "mov", HasAudio: true, Duration: 10 * time.Second}}, "out", ladderFor(720), "low"))
	if !strings.Contains(args, "-b:v:0 1400k -b:v:1 700k -b:v:2 400k") {
		t.Fatalf("ffmpeg arguments: %s", args)
	}
	for _, want := range []string{"-protocol_whitelist file -format_whitelist mov,", "-f mov -i in.mp4", "-t 15.000 -f hls"} {
		if !strings.Contains(args, want) {
			t.Errorf("ffmpeg arguments lack %q: %s", want, args)
		}
	}
}
