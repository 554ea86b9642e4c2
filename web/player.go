package web

import (
	"cmp"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/playback"
	"github.com/edgehls/edge/proxy"
	"github.com/edgehls/edge/static"
	"github.com/edgehls/edge/templates"
)

var (
	playerCSSURL    = static.Prefix + "css/player.css"
	playerScriptURL = static.Prefix + "js/player.js"
	hlsURL          = static.Prefix + "vendor/hls.js/hls.min.js"
)

const defaultWidth, defaultHeight = 640, 360

// captionsParam is what ?captions= may be: a language tag's shape.
var captionsParam = regexp.MustCompile(`^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8}){0,4}$`)

// embedPage is the player viewers get in an iframe: no portal, no sign-in.
func (s *Server) embedPage(c echo.Context) error {
	st, err := s.db.Stream(c.Request().Context(), c.Param("id"))
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	v, code := s.playerView(c, st)
	setPlayerHeaders(c, st)
	if st != nil && (st.Playback == db.PlaybackSigned || c.QueryParam("token") != "") {
		// The page names a viewer's token: no shared cache may keep it.
		c.Response().Header().Set("Cache-Control", "private, no-store")
	}
	return render(c, code, templates.EmbedPage(v))
}

// signedSources points the player at the media through the viewer's
// token (?token=, and ?poster_token= for a token of the poster kind), or
// explains why it cannot play.
func (s *Server) signedSources(c echo.Context, st *db.Stream, v *templates.Player) int {
	token := c.QueryParam("token")
	if token == "" && st.Playback != db.PlaybackSigned {
		return http.StatusOK
	}
	r := c.Request()
	if err := s.proxy.CheckToken(r, st.ID, token, playback.KindVideo); err != nil {
		v.State, v.SrcURL, v.PosterURL, v.Title = "private", "", "", privateTitle
		v.Message = "This video is private: " + refusalText(err) + "."
		return http.StatusForbidden
	}
	v.SrcURL = proxy.PathPrefix + token + "/master.m3u8"
	v.PosterURL = ""
	if st.PosterKey != "" {
		posterToken := cmp.Or(c.QueryParam("poster_token"), token)
		if s.proxy.CheckToken(r, st.ID, posterToken, playback.KindPoster) == nil {
			v.PosterURL = signedPath(st.PosterKey, st.ID, posterToken)
		}
	}
	return http.StatusOK
}

// privateTitle stands for a signed video's title on pages shown without a
// good token: the title of a private video can say as much as the video.
const privateTitle = "Private video"

// refusalText is what a viewer reads of a refused token.
func refusalText(err error) string {
	var r *playback.Refusal
	if errors.As(err, &r) {
		return r.Reason
	}
	return "its link cannot be checked right now, try again in a moment"
}

func (s *Server) playerView(c echo.Context, st *db.Stream) (templates.Player, int) {
	v := templates.Player{CSSURL: playerCSSURL, HlsURL: hlsURL, ScriptURL: playerScriptURL, Controls: true}
	if st == nil {
		v.State, v.Title, v.Message = "missing", "Video not found", "This video does not exist or was deleted."
		return v, http.StatusNotFound
	}
	v.StreamID, v.Title, v.State = st.ID, st.Title, string(st.Status)
	switch st.Status {
	case db.StatusReady:
		v.SrcURL = proxy.PathPrefix + st.ID + "/master.m3u8" // same origin as the page, whatever host it was reached by
		v.PosterURL = s.posterURL(st)
		v.AudioOnly = slices.Equal(st.Renditions, []string{"audio"})
		if code := s.signedSources(c, st, &v); code != http.StatusOK {
			return v, code
		}
	case db.StatusFailed:
		v.Message = "This video could not be processed."
	default:
		v.Message = fmt.Sprintf("This video is still being processed (%d%%). Try again in a moment.", st.Progress)
	}
	q := c.QueryParams()
	v.Autoplay, v.Muted, v.Loop = flag(q, "autoplay", false), flag(q, "muted", false), flag(q, "loop", false)
	v.Controls = flag(q, "controls", true)
	if lang := q.Get("captions"); captionsParam.MatchString(lang) {
		v.Captions = lang
	}
	if start, err := strconv.ParseFloat(q.Get("start"), 64); err == nil && start > 0 && start < 1e7 {
		v.Start = strconv.FormatFloat(start, 'f', -1, 64)
	}
	return v, http.StatusOK
}

// flag reads ?name=1|true|0|false; anything else keeps the default.
func flag(q url.Values, name string, def bool) bool {
	switch strings.ToLower(q.Get(name)) {
	case "1", "true", "yes":
		return true
	case "0", "false", "no":
		return false
	}
	return def
}

// setPlayerHeaders lets the page be framed only where its stream allows.
func setPlayerHeaders(c echo.Context, st *db.Stream) {
	ancestors := "*"
	if st != nil && len(st.EmbedDomains) > 0 {
		ancestors = "'self' " + strings.Join(st.EmbedDomains, " ")
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"media-src 'self' blob:; connect-src 'self'; worker-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors "+ancestors)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("Cache-Control", "public, max-age=30")
}

// watchPage is the shareable page: the player plus link-preview tags.
func (s *Server) watchPage(c echo.Context) error {
	st, err := s.db.Stream(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	watchURL := s.publicURL + "/watch/" + st.ID
	v := templates.Watch{
		Title: st.Title, WatchURL: watchURL, EmbedURL: s.embedURL(st.ID), CSSURL: playerCSSURL,
		OEmbedURL: s.publicURL + "/oembed?format=json&url=" + url.QueryEscape(watchURL),
	}
	v.Width, v.Height = frameSize(st)
	v.Spacer = shapeSpacer(v.Width, v.Height)
	h := c.Response().Header()
	h.Set("Cache-Control", "public, max-age=30")
	code := http.StatusOK
	if st.Playback == db.PlaybackSigned {
		// No link preview for a private video (oEmbed refuses it), and its
		// title only for a viewer whose token opens it.
		v.OEmbedURL = ""
		if s.proxy.CheckToken(c.Request(), st.ID, c.QueryParam("token"), playback.KindVideo) != nil {
			v.Title, code = privateTitle, http.StatusForbidden
		}
	} else if p := s.posterURL(st); p != "" {
		v.PosterURL = s.publicURL + p
	}
	if token := c.QueryParam("token"); token != "" {
		// The page passes the viewer's token on to its player.
		q := url.Values{"token": {token}}
		if pt := c.QueryParam("poster_token"); pt != "" {
			q.Set("poster_token", pt)
		}
		v.EmbedURL += "?" + q.Encode()
		h.Set("Cache-Control", "private, no-store")
	}
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	return render(c, code, templates.WatchPage(v))
}

type oembedJSON struct {
	Version         string `json:"version"`
	Type            string `json:"type"`
	ProviderName    string `json:"provider_name"`
	ProviderURL     string `json:"provider_url"`
	Title           string `json:"title"`
	HTML            string `json:"html"`
	Width           int    `json:"width"`
	Height          int    `json:"height"`
	ThumbnailURL    string `json:"thumbnail_url,omitempty"`
	ThumbnailWidth  int    `json:"thumbnail_width,omitempty"`
	ThumbnailHeight int    `json:"thumbnail_height,omitempty"`
}

// oembed answers /oembed?url=…&format=json for a /watch/ or /embed/ URL.
func (s *Server) oembed(c echo.Context) error {
	c.Response().Header().Set("Access-Control-Allow-Origin", "*")
	if f := c.QueryParam("format"); f != "" && f != "json" {
		return apperr.New(apperr.NotImplemented, "only format=json is supported")
	}
	id, ok := s.oembedStreamID(c, c.QueryParam("url"))
	if !ok {
		return apperr.New(apperr.NotFound, "url must be a /watch/<id> or /embed/<id> link of this site")
	}
	st, err := s.db.Stream(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if st.Playback == db.PlaybackSigned {
		// oEmbed's own answer for a private resource. Its consumers cache
		// what they are given, where a viewer's token would outlive its use.
		return unauthorized("this video is private: oEmbed describes public videos only")
	}
	fw, fh := frameSize(st)
	w, h := fitSize(fw, fh, c.QueryParam("maxwidth"), c.QueryParam("maxheight"))
	out := oembedJSON{
		Version: "1.0", Type: "video", ProviderName: "edge", ProviderURL: s.publicURL, Title: st.Title, Width: w, Height: h,
		HTML: fmt.Sprintf(`<iframe src="%s" width="%d" height="%d" frameborder="0" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen title="%s"></iframe>`,
			html.EscapeString(s.embedURL(st.ID)), w, h, html.EscapeString(st.Title)),
	}
	if p := s.posterURL(st); p != "" {
		out.ThumbnailURL = s.publicURL + p
		out.ThumbnailWidth, out.ThumbnailHeight = posterSize(st)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) oembedStreamID(c echo.Context, raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", false
	}
	pub, _ := url.Parse(s.publicURL)
	if u.Host != c.Request().Host && (pub == nil || u.Host != pub.Host) {
		return "", false
	}
	dir, id := path.Split(u.Path)
	if (dir != "/watch/" && dir != "/embed/") || id == "" {
		return "", false
	}
	return id, true
}
