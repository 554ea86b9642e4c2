package web

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/playback"
	"github.com/edgehls/edge/proxy"
)

// thumbnailName is the file a page asks for; the moment and width are in
// its query.
const thumbnailName = "thumbnail.jpg"

// thumbnailFirst says whether a /streams/ path asks for a thumbnail, and
// names the stream or token in it.
func thumbnailFirst(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, proxy.PathPrefix)
	if !ok {
		return "", false
	}
	first, file, ok := strings.Cut(rest, "/")
	return first, ok && file == thumbnailName && first != ""
}

// thumbnail answers /streams/<id or token>/thumbnail.jpg?time=&width=: it
// makes the picture into storage if it is not there yet, then lets the
// proxy serve that object, with the stream's playback rules and the cache.
// Nothing is made for a request the rules would refuse: the proxy answers
// it with its reason.
func (s *Server) thumbnail(w http.ResponseWriter, r *http.Request, first string) {
	id, token := first, ""
	if playback.LooksLikeToken(first) {
		id, token = playback.Subject(first), first
	}
	ctx := r.Context()
	st, err := s.db.Stream(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		http.Error(w, "no such video", http.StatusNotFound)
		return
	} else if err != nil {
		s.log.Error("thumbnail", "stream", id, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := s.proxy.CheckToken(r, id, token, playback.KindPoster); err != nil {
		s.proxy.ServeHTTP(w, r) // its refusal, with the reason
		return
	}
	at, width, msg := thumbnailParams(r, st)
	if msg != "" {
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	key, err := s.jobs.Thumbnail(ctx, st, at, width)
	switch {
	case errors.Is(err, jobs.ErrBusy):
		w.Header().Set("Retry-After", "1")
		http.Error(w, "busy making thumbnails: try again in a second", http.StatusServiceUnavailable)
		return
	case err != nil:
		code, _, text := classify(err)
		if code >= 500 {
			s.log.Error("make a thumbnail", "stream", id, "err", err)
		}
		http.Error(w, text, code)
		return
	}
	r2 := r.Clone(ctx)
	r2.URL.Path, r2.URL.RawQuery = proxy.PathPrefix+first+"/"+strings.TrimPrefix(key, "streams/"+id+"/"), ""
	s.proxy.ServeHTTP(w, r2)
}

// thumbnailParams reads time (seconds, default the middle; to the tenth)
// and width (default and at most the poster's, even, at least 32).
func thumbnailParams(r *http.Request, st *db.Stream) (time.Duration, int, string) {
	q := r.URL.Query()
	at := st.Duration / 2
	if v := q.Get("time"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || f < 0 || time.Duration(f*float64(time.Second)) >= st.Duration {
			return 0, 0, "time: seconds into the video, from 0 to " + strconv.FormatFloat(st.Duration.Seconds(), 'f', 1, 64)
		}
		at = time.Duration(math.Round(f*10)) * 100 * time.Millisecond
	}
	most, _ := posterSize(st)
	width := most
	if v := q.Get("width"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 32 {
			return 0, 0, "width: pixels, from 32 to " + strconv.Itoa(most)
		}
		width = min(n, most) / 2 * 2
	}
	return at, width, ""
}
