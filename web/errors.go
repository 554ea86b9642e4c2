package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/templates"
)

func badRequest(msg string) error   { return apperr.New(apperr.BadRequest, msg) }
func unauthorized(msg string) error { return apperr.New(apperr.Unauthorized, msg) }
func forbidden(msg string) error    { return apperr.New(apperr.Forbidden, msg) }

// statusOf maps each kind of apperr.Error to its HTTP status.
var statusOf = map[apperr.Kind]int{
	apperr.BadRequest:     http.StatusBadRequest,
	apperr.Unauthorized:   http.StatusUnauthorized,
	apperr.Forbidden:      http.StatusForbidden,
	apperr.NotFound:       http.StatusNotFound,
	apperr.Conflict:       http.StatusConflict,
	apperr.Invalid:        http.StatusUnprocessableEntity,
	apperr.Unsupported:    http.StatusUnsupportedMediaType,
	apperr.Unavailable:    http.StatusServiceUnavailable,
	apperr.NotImplemented: http.StatusNotImplemented,
}

// classify is the one place errors become HTTP statuses. Internal errors
// are never shown to users.
func classify(err error) (code int, kind, msg string) {
	var ee *echo.HTTPError
	if ae, ok := apperr.As(err); ok {
		if code, ok := statusOf[ae.Kind]; ok {
			return code, string(ae.Kind), ae.Message
		}
	}
	switch {
	case errors.As(err, &ee):
		return ee.Code, strings.ToLower(strings.ReplaceAll(http.StatusText(ee.Code), " ", "_")), http.StatusText(ee.Code)
	case errors.Is(err, db.ErrNotFound):
		return http.StatusNotFound, string(apperr.NotFound), err.Error()
	case errors.Is(err, db.ErrConflict):
		return http.StatusConflict, string(apperr.Conflict), err.Error()
	case errors.Is(err, db.ErrInvalid):
		return http.StatusUnprocessableEntity, string(apperr.Invalid), db.Reason(err)
	default:
		return http.StatusInternalServerError, "internal", "internal error"
	}
}

type apiErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, kind, msg := classify(err)
	req := c.Request()
	if code >= 500 {
		id := apperr.ID()
		s.log.Error("request failed", "error_id", id, "method", req.Method, "path", req.URL.Path, "err", err)
		msg = apperr.WithID(msg, id)
	}
	if strings.HasPrefix(req.URL.Path, "/api/") || strings.HasPrefix(req.URL.Path, jobs.HookPath) {
		var body apiErrorBody
		body.Error.Code, body.Error.Message = kind, msg
		c.JSON(code, body)
		return
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	if err := render(c, code, templates.ErrorPage(cssURL, code, msg)); err != nil {
		s.log.Error("render error page", "err", err)
	}
}
