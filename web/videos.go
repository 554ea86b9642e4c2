package web

import (
	"cmp"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/playback"
	"github.com/edgehls/edge/static"
	"github.com/edgehls/edge/templates"
)

const videosPerPage = 25

func (s *Server) videoList(c echo.Context) error {
	q := c.QueryParam("q")
	pageNo, _ := strconv.Atoi(c.QueryParam("page"))
	pageNo = max(pageNo, 1)
	list, total, err := s.db.ListStreams(c.Request().Context(), db.StreamFilter{Query: q, Limit: videosPerPage, Offset: (pageNo - 1) * videosPerPage})
	if err != nil {
		return err
	}
	v := templates.VideoList{Page: s.page(c, "Videos", "videos"), Query: q, Total: total,
		APIHint: fmt.Sprintf(`curl -H "Authorization: Bearer $EDGE_TOKEN" -H "Content-Type: application/json" \`+"\n"+
			`  -d '{"title":"My talk","source":"uploads/talk.mp4"}' %s/api/v1/streams`, s.publicURL)}
	for _, st := range list {
		v.Rows = append(v.Rows, templates.VideoRow{
			ID: st.ID, Title: st.Title, Status: string(st.Status), Progress: st.Progress,
			Duration: formatDuration(st.Duration), Created: formatTime(st.CreatedAt), URL: "/videos/" + st.ID,
			PosterURL: s.portalPosterURL(c, &st),
		})
	}
	if len(list) > 0 {
		v.From, v.To = (pageNo-1)*videosPerPage+1, (pageNo-1)*videosPerPage+len(list)
	}
	if pageNo > 1 && len(list) > 0 {
		v.PrevURL = listURL(q, pageNo-1)
	}
	if v.To < total && len(list) > 0 {
		v.NextURL = listURL(q, pageNo+1)
	}
	if len(list) == 0 && total > 0 {
		v.LastURL = listURL(q, (total+videosPerPage-1)/videosPerPage)
	}
	return render(c, http.StatusOK, templates.VideoListPage(v))
}

func listURL(q string, page int) string {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return "/"
	}
	return "/?" + v.Encode()
}

// posterURL serves a poster through the proxy: it lives in the stream's
// prefix like its segments.
func (s *Server) posterURL(st *db.Stream) string { return mediaPath(st.PosterKey) }

// mediaPath is a stream's file as the proxy serves it; "" for none yet.
func mediaPath(key string) string {
	if key == "" {
		return ""
	}
	return "/" + key
}

// downloadName is the file name the Download MP4 link saves under: the
// video's title, without what file systems refuse in a name.
func downloadName(title string) string {
	name := strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || strings.ContainsRune(`/\:*?"<>|`, r) {
			return ' '
		}
		return r
	}, title)), " ")
	return cmp.Or(name, "video") + ".mp4"
}

// portalMediaTTL is how long the portal's links to a signed video's files
// open them: a page left open for a working day still loads them.
const portalMediaTTL = 24 * time.Hour

// portalPosterURL is a poster as its own team sees it in the portal.
func (s *Server) portalPosterURL(c echo.Context, st *db.Stream) string {
	return s.portalMediaURL(c, st, st.PosterKey, playback.KindPoster)
}

// portalMediaURL links the portal to one of a video's files (key). A
// signed video's files answer only to a token, its team's as its viewers',
// so the portal mints one of the file's kind: a poster's opens the
// pictures and nothing else. Viewers' pages never get these tokens.
func (s *Server) portalMediaURL(c echo.Context, st *db.Stream, key, kind string) string {
	if key == "" || st.Playback != db.PlaybackSigned {
		return mediaPath(key)
	}
	if token := s.portalToken(c, st, kind); token != "" {
		return signedPath(key, st.ID, token)
	}
	return ""
}

// portalToken mints a token of kind for the portal's own links to a
// signed video; "" (logged) when it cannot, so the link is left out.
func (s *Server) portalToken(c echo.Context, st *db.Stream, kind string) string {
	token, _, err := s.jobs.MintToken(c.Request().Context(), jobs.TokenRequest{StreamID: st.ID, TTL: portalMediaTTL, Kind: kind})
	if err != nil {
		s.log.Warn("mint a token for the portal", "stream", st.ID, "kind", kind, "err", err)
		return ""
	}
	return token
}

func (s *Server) videoPage(c echo.Context) error {
	st, err := s.db.Stream(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.VideoPage(s.videoDetail(c, st, "")))
}

func (s *Server) videoDetail(c echo.Context, st *db.Stream, formError string) templates.VideoDetail {
	v := templates.VideoDetail{
		Page: s.page(c, st.Title, "videos"), ID: st.ID, Title: st.Title, Status: string(st.Status), Progress: st.Progress,
		Error: st.Error, Warning: st.Warning, Duration: formatDuration(st.Duration), Created: formatTime(st.CreatedAt), Source: st.SourceKey,
		MasterURL: s.masterURL(st.ID), PlayerURL: s.embedURL(st.ID), WatchURL: s.publicURL + "/watch/" + st.ID,
		Renditions: st.Renditions, FormError: formError, EmbedDomains: strings.Join(st.EmbedDomains, "\n"),
		Playback: st.Playback, TestLink: s.testLink(c, st),
	}
	v.EmbedCode = embedCode(html.EscapeString(v.PlayerURL), html.EscapeString(st.Title), st)
	v.Captions = s.captionRows(c, st.ID)
	v.PosterURL, v.AudioOnly = s.portalPosterURL(c, st), slices.Equal(st.Renditions, []string{"audio"})
	v.PreviewURL = s.previewURL(c, st)
	if v.Downloads = st.Downloads; st.OfferedDownload() != "" {
		v.DownloadURL, v.DownloadName = s.portalMediaURL(c, st, st.OfferedDownload(), playback.KindVideo), downloadName(st.Title)
	}
	jobs, err := s.db.ListJobs(c.Request().Context(), st.ID)
	if err != nil {
		s.log.Warn("list jobs", "stream", st.ID, "err", err)
	}
	for _, j := range jobs {
		v.Jobs = append(v.Jobs, templates.JobRow{Backend: j.Backend, Status: j.Status, Error: j.Error, Created: formatTime(j.CreatedAt)})
	}
	return v
}

// previewURL is the player on the video's own page: a signed stream's
// carries a token valid one hour.
func (s *Server) previewURL(c echo.Context, st *db.Stream) string {
	if st.Status != db.StatusReady {
		return ""
	}
	if st.Playback != db.PlaybackSigned {
		return "/embed/" + st.ID
	}
	token := s.portalToken(c, st, "")
	if token == "" {
		return ""
	}
	return "/embed/" + st.ID + "?token=" + url.QueryEscape(token)
}

func (s *Server) setDownloads(c echo.Context) error {
	on := c.FormValue("downloads") == "on"
	done := "Downloads off: the MP4 is deleted."
	if on {
		done = "Downloads on: the MP4 is being made, its link appears here."
	}
	return s.saveVideo(c, db.StreamUpdate{Downloads: &on}, done, func(v *templates.VideoDetail, reason string) { v.FormError = reason })
}

func (s *Server) renameVideo(c echo.Context) error {
	title := c.FormValue("title")
	return s.saveVideo(c, db.StreamUpdate{Title: &title}, "Renamed.", func(v *templates.VideoDetail, reason string) {
		v.FormError = reason
	})
}

// saveVideo applies a change made on a video's page: a refused value
// shows the page again with the reason where show puts it.
func (s *Server) saveVideo(c echo.Context, u db.StreamUpdate, done string, show func(*templates.VideoDetail, string)) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	saveErr := s.jobs.UpdateStream(ctx, id, u)
	if errors.Is(saveErr, db.ErrInvalid) {
		st, err := s.db.Stream(ctx, id)
		if err != nil {
			return err
		}
		v := s.videoDetail(c, st, "")
		show(&v, db.Reason(saveErr))
		return render(c, http.StatusUnprocessableEntity, templates.VideoPage(v))
	} else if saveErr != nil {
		return saveErr
	}
	s.flash(c, done)
	return c.Redirect(http.StatusSeeOther, "/videos/"+id)
}

func (s *Server) confirmDelete(c echo.Context) error {
	st, err := s.db.Stream(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.DeletePage(s.page(c, "Delete "+st.Title, "videos"), st.ID, st.Title))
}

func (s *Server) deleteVideo(c echo.Context) error {
	st, err := s.db.Stream(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.jobs.Delete(c.Request().Context(), st.ID); err != nil {
		return err
	}
	s.log.Info("video deleted", "stream", st.ID, "by", currentUser(c).Email)
	s.flash(c, "Deleted “"+st.Title+"”.")
	return c.Redirect(http.StatusSeeOther, "/")
}

type liveStatus struct {
	Status   db.Status `json:"status"`
	Progress int       `json:"progress"`
	Error    string    `json:"error,omitempty"`
}

// videoStatus answers static/js/live.js: the state of up to 100 videos.
// Unknown ids are left out.
func (s *Server) videoStatus(c echo.Context) error {
	ids := strings.Split(c.QueryParam("ids"), ",")
	if len(ids) > 100 {
		return badRequest("at most 100 ids")
	}
	out := make(map[string]liveStatus, len(ids))
	for _, id := range ids {
		st, err := s.db.Stream(c.Request().Context(), id)
		if errors.Is(err, db.ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		out[id] = liveStatus{st.Status, st.Progress, st.Error}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) setEmbedDomains(c echo.Context) error {
	domains := strings.Fields(c.FormValue("domains"))
	return s.saveVideo(c, db.StreamUpdate{EmbedDomains: &domains}, "Embedding rules saved.", func(v *templates.VideoDetail, reason string) {
		v.EmbedDomains, v.EmbedError = c.FormValue("domains"), reason
	})
}

// uploadChunkBytes is what each PATCH from the upload page carries: small
// enough that a dropped connection loses little, large enough to be cheap.
const uploadChunkBytes = 8 << 20

func (s *Server) uploadPage(c echo.Context) error {
	return s.renderUpload(c, http.StatusOK, templates.Upload{})
}

func (s *Server) renderUpload(c echo.Context, code int, v templates.Upload) error {
	v.Page, v.ChunkSize = s.page(c, "Upload", "upload"), s.uploadChunk
	v.Scripts = []string{static.Prefix + "vendor/tus-js-client/tus.min.js", static.Prefix + "js/upload.js"}
	return render(c, code, templates.UploadPage(v))
}

// importVideo makes a stream from a link; a refused link shows the
// upload page again with the reason.
func (s *Server) importVideo(c echo.Context) error {
	sub := jobs.Submission{Title: c.FormValue("title"), Source: c.FormValue("url"), UserID: currentUser(c).ID}
	st, err := s.jobs.Import(c.Request().Context(), sub)
	if ae, ok := apperr.As(err); ok && ae.Kind == apperr.Invalid {
		return s.renderUpload(c, http.StatusUnprocessableEntity, templates.Upload{ImportURL: sub.Source, ImportTitle: sub.Title, ImportError: ae.Message})
	} else if err != nil {
		return err
	}
	s.flash(c, "Importing: edge is downloading the video.")
	return c.Redirect(http.StatusSeeOther, "/videos/"+st.ID)
}

// newUploadStream answers the upload page's script: a stream waiting for
// its file and where to send it.
func (s *Server) newUploadStream(c echo.Context) error {
	if s.uploads == nil {
		return apperr.New(apperr.Unavailable, "uploads are disabled on this server")
	}
	st, err := s.jobs.CreateForUpload(c.Request().Context(), jobs.Submission{Title: c.FormValue("title"), UserID: currentUser(c).ID})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]string{"id": st.ID, "upload_url": uploadPath(st.ID)})
}
