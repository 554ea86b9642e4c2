package jobs

import (
	"math"
	"strconv"
)

// rung is one rendition of the ladder, named by its short side: 720p is
// 1280×720 for a landscape source and 720×1280 for a portrait one.
type rung struct {
	Short         int
	Width, Height int
	FrameRate     float64
	Kbps          int // target video bitrate at quality "high"
}

func (r rung) Name() string { return strconv.Itoa(r.Short) + "p" }

// shortSides are the ladder's rungs, highest first, by the picture's short
// side, so a phone's 1080×1920 gets a 1080p rung as a 1920×1080 film does.
var shortSides = []int{2160, 1440, 1080, 720, 480, 360}

// ladderFor picks the rungs a source can fill, never upscaling, each with
// the source's shape in square pixels and even sizes, at the source's
// frame rate up to 60. A source between two rungs (576p PAL, a 1078p
// crop) keeps its own size as the top rung, unless the rung below is
// within 10% of it; a source smaller than every rung gets that one alone.
func ladderFor(p probe) []rung {
	w, h := p.DisplayWidth, p.DisplayHeight
	short := min(w, h)
	fps := outputFrameRate(p.FrameRate)
	var out []rung
	for _, s := range shortSides {
		if s > short {
			continue
		}
		if len(out) == 0 && s != short && short <= shortSides[0] && float64(short) > 1.1*float64(s) {
			out = append(out, sizedRung(w, h, short&^1, fps))
		}
		out = append(out, sizedRung(w, h, s, fps))
	}
	if len(out) == 0 {
		out = append(out, sizedRung(w, h, max(2, short&^1), fps))
	}
	return out
}

// outputFrameRate keeps the source's rate up to 60; above, it halves it
// (120 → 60, 119.88 → 59.94, 100 → 50), so motion stays even.
func outputFrameRate(fps float64) float64 {
	if fps <= 0 {
		fps = 30
	}
	for fps > 60.5 {
		fps /= 2
	}
	return fps
}

func sizedRung(w, h, short int, fps float64) rung {
	long := even(float64(max(w, h)) * float64(short) / float64(min(w, h)))
	r := rung{Short: short, Width: long, Height: short, FrameRate: fps}
	if h > w {
		r.Width, r.Height = short, long
	}
	r.Kbps = kbpsFor(r.Width*r.Height, fps)
	return r
}

func even(x float64) int { return max(2, int(math.Round(x/2))*2) }

// kbpsFor scales 5 Mb/s for 1080p30 (H.264 High) by pixels^0.75 and frame
// rate^0.6: bits grow slower than pixels or frames, as the usual ladders
// (4.5–6 Mb/s 1080p, 2.5–3 Mb/s 720p, 14–16 Mb/s 2160p) show.
func kbpsFor(pixels int, fps float64) int {
	k := 5000 * math.Pow(float64(pixels)/(1920*1080), 0.75) * math.Pow(fps/30, 0.6)
	return max(200, int(math.Round(k/50))*50)
}

// qualityShare scales the bitrates: Ittybit's quality names, edge's numbers.
var qualityShare = map[string]int{"low": 50, "medium": 75, "high": 100}

// rates are a rung's capped-VBR settings for ffmpeg: the target, a ceiling
// of 1.25× and a buffer of 2× the target, so no 4 s segment runs far
// above what the master declares for it.
func (r rung) rates(quality string) (target, maxrate, bufsize string) {
	share, ok := qualityShare[quality]
	if !ok {
		share = 100
	}
	k := r.Kbps * share / 100
	return strconv.Itoa(k) + "k", strconv.Itoa(k*5/4) + "k", strconv.Itoa(k*2) + "k"
}
