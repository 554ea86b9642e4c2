package jobs

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestLadderFollowsTheSourcesShape(t *testing.T) {
	for _, tc := range []struct {
		w, h int
		fps  float64
		want string
	}{
		{1920, 1080, 30, "[1080p:1920x1080@30 720p:1280x720@30 480p:854x480@30 360p:640x360@30]"},
		{1080, 1920, 30, "[1080p:1080x1920@30 720p:720x1280@30 480p:480x854@30 360p:360x640@30]"},
		{3840, 2160, 24, "[2160p:3840x2160@24 1440p:2560x1440@24 1080p:1920x1080@24 720p:1280x720@24 480p:854x480@24 360p:640x360@24]"},
		{1280, 720, 59.94, "[720p:1280x720@59.94 480p:854x480@59.94 360p:640x360@59.94]"},
		{1280, 720, 120, "[720p:1280x720@60 480p:854x480@60 360p:640x360@60]"},
		{1440, 1080, 25, "[1080p:1440x1080@25 720p:960x720@25 480p:640x480@25 360p:480x360@25]"},
		{1919, 1079, 30, "[1078p:1918x1078@30 720p:1280x720@30 480p:854x480@30 360p:640x360@30]"},
		{1024, 576, 25, "[576p:1024x576@25 480p:854x480@25 360p:640x360@25]"},
		{854, 500, 30, "[480p:820x480@30 360p:614x360@30]"},
		{320, 241, 30, "[240p:318x240@30]"},
		{2, 1, 30, "[2p:4x2@30]"},
	} {
		var got []string
		for _, r := range ladderFor(probe{DisplayWidth: tc.w, DisplayHeight: tc.h, FrameRate: tc.fps}) {
			got = append(got, fmt.Sprintf("%s:%dx%d@%g", r.Name(), r.Width, r.Height, r.FrameRate))
		}
		if fmt.Sprint(got) != tc.want {
			t.Errorf("%dx%d@%g: %v, want %s", tc.w, tc.h, tc.fps, got, tc.want)
		}
	}
}

// TestBitratesScaleWithPixelsAndFrames: a portrait rung costs what its
// landscape twin does, 60 fps more than 30 but less than twice, and
// 2160p more than 1080p but less than four times.
func TestBitratesScaleWithPixelsAndFrames(t *testing.T) {
	k := func(w, h int, fps float64) int { return sizedRung(w, h, min(w, h), fps).Kbps }
	if k(1920, 1080, 30) != 5000 || k(1080, 1920, 30) != 5000 {
		t.Fatalf("1080p30: %d landscape, %d portrait; want 5000", k(1920, 1080, 30), k(1080, 1920, 30))
	}
	if r := float64(k(1920, 1080, 60)) / 5000; r <= 1.2 || r >= 2 {
		t.Errorf("60 fps costs %.2f× 30 fps", r)
	}
	if r := float64(k(3840, 2160, 30)) / 5000; r <= 2 || r >= 4 {
		t.Errorf("2160p costs %.2f× 1080p", r)
	}
}

func TestQualityScalesCappedBitrates(t *testing.T) {
	r := sizedRung(1280, 720, 720, 30)
	for q, want := range map[string][3]string{
		"high": {"2700k", "3375k", "5400k"}, "medium": {"2025k", "2531k", "4050k"}, "low": {"1350k", "1687k", "2700k"}, "": {"2700k", "3375k", "5400k"},
	} {
		if a, b, c := r.rates(q); [3]string{a, b, c} != want {
			t.Errorf("%q: %s %s %s, want %v", q, a, b, c, want)
		}
	}
	p := probe{Demuxer: "mov", HasAudio: true, Duration: 10 * time.Second, DisplayWidth: 1280, DisplayHeight: 720, FrameRate: 30}
	rungs := ladderFor(p)
	args := fmt.Sprint(ladderArgs(input{path: "in.mp4", probe: p}, "out", "thumbs", rungs, storyboardFor(p.Duration, rungs[0]), encoding{quality: "low"}))
	for _, want := range []string{
		"-protocol_whitelist file -format_whitelist mov,", "-f mov -i in.mp4", "-t 15.000 -f hls",
		"-b:v:0 1350k -maxrate:v:0 1687k -bufsize:v:0 2700k", "-profile:v high",
		"[0:v]fps=30,format=yuv420p,split=4[s0][s1][s2][s3];[s0]scale=1280:720:",
		";[s3]fps=1/2,scale=160:90,setsar=1[sb]", "-map [sb] -t 15.000 -c:v png -f image2 -start_number 0 thumbs/thumb-%d.png",
	} {
		if !strings.Contains(args, want) {
			t.Errorf("ffmpeg arguments lack %q: %s", want, args)
		}
	}
}

func TestStoryboardSpacingAndShape(t *testing.T) {
	for _, tc := range []struct {
		duration      time.Duration
		top           rung
		every         time.Duration
		width, height int
	}{
		{20 * time.Second, sizedRung(1920, 1080, 1080, 30), 2 * time.Second, 160, 90},
		{5 * time.Minute, sizedRung(1920, 1080, 1080, 30), 3 * time.Second, 160, 90},
		{2 * time.Hour, sizedRung(1280, 720, 720, 30), 10 * time.Second, 160, 90},
		{time.Minute, sizedRung(1080, 1920, 1080, 30), 2 * time.Second, 90, 160},
		{time.Minute, sizedRung(720, 576, 576, 25), 2 * time.Second, 160, 128},
	} {
		sb := storyboardFor(tc.duration, tc.top)
		if sb.every != tc.every || sb.width != tc.width || sb.height != tc.height {
			t.Errorf("%s %dx%d: every %s, %dx%d; want %s, %dx%d", tc.duration, tc.top.Width, tc.top.Height, sb.every, sb.width, sb.height,
				tc.every, tc.width, tc.height)
		}
	}
}
