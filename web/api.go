package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/proxy"
)

const maxAPIBody = 1 << 20

type streamJSON struct {
	ID         string    `json:"id"`
	Title      string    `json:"title"`
	Status     db.Status `json:"status"`
	Progress   int       `json:"progress"`
	Error      string    `json:"error"`
	Warning    string    `json:"warning"`  // how a ready stream falls short of its source; "" when it does not
	Duration   float64   `json:"duration"` // seconds, as the stream plays
	Width      int       `json:"width"`    // the top rendition's picture, upright; 0 when unknown or audio only
	Height     int       `json:"height"`
	Renditions []string  `json:"renditions"`
	// PlaybackPolicy is "public" or "signed": a signed stream plays only
	// through a token in place of its id (see POST …/tokens).
	PlaybackPolicy string    `json:"playback_policy"`
	AllowedDomains []string  `json:"allowed_domains"` // sites that may embed it and fetch its media; empty: any
	MasterURL      string    `json:"master_url"`
	EmbedURL       string    `json:"embed_url"`
	PosterURL      string    `json:"poster_url"`   // "" until there is one; a signed stream's needs a token (POST …/tokens)
	Downloads      bool      `json:"downloads"`    // it offers an MP4 download
	DownloadURL    string    `json:"download_url"` // "" until the MP4 is made
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func (s *Server) streamJSON(st *db.Stream) streamJSON {
	r := orEmpty(st.Renditions)
	out := streamJSON{
		ID: st.ID, Title: st.Title, Status: st.Status, Progress: st.Progress, Error: st.Error, Warning: st.Warning,
		Duration: st.Duration.Seconds(), Width: st.Width, Height: st.Height, Renditions: r, CreatedAt: st.CreatedAt, UpdatedAt: st.UpdatedAt,
		PlaybackPolicy: st.Playback, AllowedDomains: orEmpty(st.EmbedDomains),
		MasterURL: s.masterURL(st.ID), EmbedURL: s.embedURL(st.ID),
	}
	if st.PosterKey != "" {
		out.PosterURL = s.publicURL + "/" + st.PosterKey
	}
	if out.Downloads = st.Downloads; st.OfferedDownload() != "" {
		out.DownloadURL = s.publicURL + mediaPath(st.OfferedDownload())
	}
	return out
}

// StreamPayload is a stream as the API shows it, for outgoing webhooks.
func (s *Server) StreamPayload(st *db.Stream) any { return s.streamJSON(st) }

func (s *Server) masterURL(id string) string {
	return s.publicURL + proxy.PathPrefix + id + "/master.m3u8"
}
func (s *Server) embedURL(id string) string { return s.publicURL + "/embed/" + id }

func (s *Server) apiListStreams(c echo.Context) error {
	limit, err := queryInt(c, "limit", 50, 1, 200)
	if err != nil {
		return err
	}
	offset, err := queryInt(c, "offset", 0, 0, 1<<31)
	if err != nil {
		return err
	}
	list, total, err := s.db.ListStreams(c.Request().Context(), db.StreamFilter{Query: c.QueryParam("q"), Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	out := make([]streamJSON, 0, len(list))
	for i := range list {
		out = append(out, s.streamJSON(&list[i]))
	}
	return c.JSON(http.StatusOK, map[string]any{"streams": out, "total": total, "limit": limit, "offset": offset})
}

func (s *Server) apiGetStream(c echo.Context) error {
	st, err := s.db.Stream(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.streamJSON(st))
}

type createStreamRequest struct {
	Title          string `json:"title"`
	Source         string `json:"source"`
	URL            string `json:"url"` // an http(s) URL edge downloads the source from
	PlaybackPolicy string `json:"playback_policy"`
	Downloads      *bool  `json:"downloads"` // offer an MP4 download; absent: EDGE_DOWNLOADS
}

func (s *Server) apiCreateStream(c echo.Context) error {
	var req createStreamRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	sub := jobs.Submission{Title: req.Title, Source: req.Source, Playback: req.PlaybackPolicy, Downloads: req.Downloads, UserID: currentUser(c).ID}
	var st *db.Stream
	var err error
	switch {
	case req.URL != "" && req.Source != "":
		return apperr.New(apperr.Invalid, "url: send a url or a source, not both")
	case strings.HasPrefix(req.URL, "s3://"): // a bucket edge or Ittybit reads itself
		sub.Source = req.URL
		st, err = s.jobs.Submit(c.Request().Context(), sub)
	case req.URL != "":
		sub.Source = req.URL
		st, err = s.jobs.Import(c.Request().Context(), sub)
	case strings.TrimSpace(req.Source) == "":
		return s.apiCreateForUpload(c, sub)
	default:
		st, err = s.jobs.Submit(c.Request().Context(), sub)
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", s.publicURL+"/api/v1/streams/"+st.ID)
	return c.JSON(http.StatusCreated, s.streamJSON(st))
}

func (s *Server) apiDeleteStream(c echo.Context) error {
	if err := s.jobs.Delete(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// apiPurgeStream makes this instance forget what it caches of a stream, so
// edges that share an origin can be told of a delete made on one of them.
// The stream need not be known here.
func (s *Server) apiPurgeStream(c echo.Context) error {
	id := c.Param("id")
	if !proxy.ValidStreamID(id) {
		return badRequest("not a stream id: letters, digits, '.', '_' and '-' only, not starting with '.'")
	}
	s.proxy.PurgeStream(id)
	return c.NoContent(http.StatusNoContent)
}

func decodeJSON(c echo.Context, v any) error {
	req := c.Request()
	if ct := req.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return apperr.New(apperr.Unsupported, "send Content-Type: application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), req.Body, maxAPIBody))
	// A misspelt field would otherwise be dropped without a word: a PATCH
	// answering 200 having changed nothing, a token minted for the default
	// hour instead of the "tll" asked for.
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest(jsonProblem(err, v))
	}
	return nil
}

func queryInt(c echo.Context, name string, def, lo, hi int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badRequest(name + " must be a whole number from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi))
	}
	return n, nil
}

// apiCreateForUpload answers a stream without a source with the tus
// creation URL its file is to be uploaded to.
func (s *Server) apiCreateForUpload(c echo.Context, sub jobs.Submission) error {
	if s.uploads == nil {
		return apperr.New(apperr.Invalid, "source is required: uploads are disabled on this server")
	}
	st, err := s.jobs.CreateForUpload(c.Request().Context(), sub)
	if err != nil {
		return err
	}
	body := struct {
		streamJSON
		UploadURL string `json:"upload_url"`
	}{s.streamJSON(st), s.publicURL + uploadPath(st.ID)}
	c.Response().Header().Set("Location", s.publicURL+"/api/v1/streams/"+st.ID)
	return c.JSON(http.StatusCreated, body)
}

// orEmpty makes a nil list an empty one, so JSON shows [] rather than null.
func orEmpty[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}
