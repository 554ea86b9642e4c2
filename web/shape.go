package web

import (
	"fmt"
	"math"
	"net/url"
	"strconv"

	"github.com/edgehls/edge/db"
)

// A stream's player keeps the shape of its picture: a phone video is as
// tall as it is meant to be, not pillarboxed into a 16:9 box.

// frameSize is the player's default size for a stream: 640 on its long
// side, its own ratio (16:9 when no job reported the picture).
func frameSize(st *db.Stream) (width, height int) {
	w, h := 16, 9
	if st != nil && st.Width > 0 && st.Height > 0 {
		w, h = st.Width, st.Height
	}
	if w >= h {
		return defaultWidth, roundDiv(defaultWidth*h, w)
	}
	return roundDiv(defaultWidth*w, h), defaultWidth
}

// fitSize shrinks a size to a consumer's maxwidth and maxheight (oEmbed),
// keeping its ratio.
func fitSize(w, h int, maxW, maxH string) (int, int) {
	if mw, err := strconv.Atoi(maxW); err == nil && mw > 0 && mw < w {
		w, h = mw, roundDiv(mw*h, w)
	}
	if mh, err := strconv.Atoi(maxH); err == nil && mh > 0 && mh < h {
		w, h = roundDiv(mh*w, h), mh
	}
	return max(w, 1), max(h, 1)
}

func roundDiv(a, b int) int { return int(math.Round(float64(a) / float64(b))) }

// shapeSpacer is an SVG of the stream's ratio: an image with that
// intrinsic size that the watch page's stage takes its shape from, since
// the page's CSP allows no inline style.
func shapeSpacer(w, h int) string {
	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d"/>`, w, h, w, h)
	return "data:image/svg+xml," + url.PathEscape(svg)
}

// embedCode is the snippet the portal hands out: responsive at the
// stream's ratio, and no wider than 360 px for a portrait video, so it is
// not taller than a screen in a wide column.
func embedCode(src, title string, st *db.Stream) string {
	w, h := frameSize(st)
	style := fmt.Sprintf("aspect-ratio:%d/%d;width:100%%;height:auto;border:0", w, h)
	if h > w {
		style += ";max-width:360px"
	}
	return fmt.Sprintf(`<iframe src="%s" width="%d" height="%d" style="%s" `+
		`allow="autoplay; fullscreen; picture-in-picture" allowfullscreen title="%s"></iframe>`, src, w, h, style, title)
}

// posterSize is the poster's size as the ffmpeg runner makes it (the 720p
// rung's, or the picture's own when smaller); 640×360 when unknown.
func posterSize(st *db.Stream) (width, height int) {
	w, h := st.Width, st.Height
	if w <= 0 || h <= 0 {
		return defaultWidth, defaultHeight
	}
	if short := min(w, h); short > 720 {
		long := 2 * roundDiv(max(w, h)*720, 2*short)
		if w >= h {
			return long, 720
		}
		return 720, long
	}
	return w, h
}
