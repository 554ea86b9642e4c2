package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/templates"
)

// captionForm bounds a caption upload's whole form: the file (2 MiB) and
// the fields.
const captionForm = 3 << 20

type captionJSON struct {
	Language  string    `json:"language"`
	Label     string    `json:"label"`
	Cues      int       `json:"cues"`
	URL       string    `json:"url"` // the subtitle rendition's playlist
	CreatedAt time.Time `json:"created_at"`
}

func (s *Server) captionView(c db.Caption) captionJSON {
	return captionJSON{Language: c.Language, Label: c.Label, Cues: c.Cues, CreatedAt: c.CreatedAt,
		URL: s.publicURL + "/streams/" + c.StreamID + "/" + jobs.SubtitleDir(c) + "stream.m3u8"}
}

// uploadCaptions reads the multipart form (file, label; language from
// the path or the form) and adds the captions.
func (s *Server) uploadCaptions(c echo.Context, language string) (*db.Caption, error) {
	req := c.Request()
	req.Body = http.MaxBytesReader(c.Response(), req.Body, captionForm) // the API's route has no limitBody
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, badRequest("file: send the captions as a multipart form field named file (a .vtt or .srt file of at most 2 MiB)")
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return s.jobs.AddCaptions(req.Context(), jobs.CaptionUpload{StreamID: c.Param("id"), Language: language, Label: c.FormValue("label"), File: f})
}

func (s *Server) apiListCaptions(c echo.Context) error {
	ctx := c.Request().Context()
	if _, err := s.db.Stream(ctx, c.Param("id")); err != nil {
		return err
	}
	caps, err := s.db.Captions(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	out := make([]captionJSON, 0, len(caps))
	for _, cp := range caps {
		out = append(out, s.captionView(cp))
	}
	return c.JSON(http.StatusOK, map[string]any{"captions": out})
}

func (s *Server) apiPutCaptions(c echo.Context) error {
	cp, err := s.uploadCaptions(c, c.Param("language"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.captionView(*cp))
}

func (s *Server) apiDeleteCaptions(c echo.Context) error {
	if err := s.jobs.RemoveCaptions(c.Request().Context(), c.Param("id"), c.Param("language")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// addCaptions is the video page's form: a refused file shows the page
// again with the reason by the form.
func (s *Server) addCaptions(c echo.Context) error {
	cp, err := s.uploadCaptions(c, c.FormValue("language"))
	if reason, refused := refusal(err); refused {
		return s.videoPageWith(c, http.StatusUnprocessableEntity, func(v *templates.VideoDetail) { v.CaptionError = reason })
	} else if err != nil {
		return err
	}
	s.flash(c, "Captions added: "+cp.Label+". Viewers find them in the player's captions menu.")
	return c.Redirect(http.StatusSeeOther, "/videos/"+c.Param("id"))
}

func (s *Server) removeCaptions(c echo.Context) error {
	if err := s.jobs.RemoveCaptions(c.Request().Context(), c.Param("id"), c.Param("language")); err != nil {
		return err
	}
	s.flash(c, "Captions removed.")
	return c.Redirect(http.StatusSeeOther, "/videos/"+c.Param("id"))
}

// videoPageWith shows a video's page with what edit sets (an error by one
// of its forms).
func (s *Server) videoPageWith(c echo.Context, code int, edit func(*templates.VideoDetail)) error {
	st, err := s.db.Stream(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	v := s.videoDetail(c, st, "")
	edit(&v)
	return render(c, code, templates.VideoPage(v))
}

// captionRows lists a video's captions for its page.
func (s *Server) captionRows(c echo.Context, id string) []templates.CaptionRow {
	caps, err := s.db.Captions(c.Request().Context(), id)
	if err != nil {
		s.log.Warn("list captions", "stream", id, "err", err)
	}
	var rows []templates.CaptionRow
	for _, cp := range caps {
		rows = append(rows, templates.CaptionRow{Language: cp.Language, Label: cp.Label, Cues: cp.Cues, Added: formatTime(cp.CreatedAt)})
	}
	return rows
}
