package web

import (
	"crypto/rand"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/templates"
)

// httpError is an error the handler chose a status for.
type httpError struct {
	code int
	kind string
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(msg string) error   { return &httpError{http.StatusBadRequest, "bad_request", msg} }
func unauthorized(msg string) error { return &httpError{http.StatusUnauthorized, "unauthorized", msg} }
func forbidden(msg string) error    { return &httpError{http.StatusForbidden, "forbidden", msg} }

// classify is the one place errors become HTTP statuses. Internal errors
// are never shown to users.
func classify(err error) (code int, kind, msg string) {
	var he *httpError
	var ee *echo.HTTPError
	switch {
	case errors.As(err, &he):
		return he.code, he.kind, he.msg
	case errors.As(err, &ee):
		return ee.Code, strings.ToLower(strings.ReplaceAll(http.StatusText(ee.Code), " ", "_")), http.StatusText(ee.Code)
	case errors.Is(err, db.ErrNotFound):
		return http.StatusNotFound, "not_found", err.Error()
	case errors.Is(err, db.ErrConflict):
		return http.StatusConflict, "conflict", err.Error()
	case errors.Is(err, db.ErrInvalid):
		return http.StatusUnprocessableEntity, "invalid", db.Reason(err)
	default:
		return http.StatusInternalServerError, "internal", "internal error"
	}
}

// errorID names one failure in the log and in what its user reads, so a
// report can be matched to its cause without showing the cause.
func errorID() string { return strings.ToLower(rand.Text()[:10]) }

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
		id := errorID()
		s.log.Error("request failed", "error_id", id, "method", req.Method, "path", req.URL.Path, "err", err)
		msg += " (error id " + id + ")"
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
