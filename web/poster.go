package web

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/templates"
)

// posterTime reads seconds into the video, for a poster.
func posterTime(v float64) (time.Duration, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > 1e6 {
		return 0, apperr.New(apperr.Invalid, "time: seconds into the video, such as 12.5")
	}
	return time.Duration(v * float64(time.Second)), nil
}

func (s *Server) apiSetPoster(c echo.Context) error {
	var req struct {
		Time *float64 `json:"time"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Time == nil {
		return apperr.New(apperr.Invalid, "time: seconds into the video, such as 12.5")
	}
	at, err := posterTime(*req.Time)
	if err != nil {
		return err
	}
	st, err := s.jobs.SetPoster(c.Request().Context(), c.Param("id"), at)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.streamJSON(st))
}

// setPoster is the video page's "use this moment" form; its script fills
// the time from the preview player.
func (s *Server) setPoster(c echo.Context) error {
	v, err := strconv.ParseFloat(c.FormValue("time"), 64)
	at, terr := posterTime(v)
	if err != nil || terr != nil {
		return s.videoPageWith(c, http.StatusUnprocessableEntity, func(v *templates.VideoDetail) {
			v.PosterError = "time: seconds into the video, such as 12.5"
		})
	}
	_, err = s.jobs.SetPoster(c.Request().Context(), c.Param("id"), at)
	if reason, refused := refusal(err); refused {
		return s.videoPageWith(c, http.StatusUnprocessableEntity, func(v *templates.VideoDetail) { v.PosterError = reason })
	} else if err != nil {
		return err
	}
	s.flash(c, "Poster changed to the picture at "+strconv.FormatFloat(at.Seconds(), 'f', 1, 64)+" s.")
	return c.Redirect(http.StatusSeeOther, "/videos/"+c.Param("id"))
}
