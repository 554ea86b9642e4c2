package web

import (
	"bytes"
	"fmt"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/static"
	"github.com/edgehls/edge/templates"
)

var (
	cssURL    = static.Prefix + "css/edge.css"
	scriptURL = static.Prefix + "js/live.js"
)

// render writes a page through a buffer, so a template error is a clean
// 500 rather than half a page.
func render(c echo.Context, code int, page templ.Component) error {
	var buf bytes.Buffer
	if err := page.Render(c.Request().Context(), &buf); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	return c.HTMLBlob(code, buf.Bytes())
}

// page fills the frame every signed-in page shares.
func (s *Server) page(c echo.Context, title, nav string) templates.Page {
	p := templates.Page{Title: title, Nav: nav, CSSURL: cssURL, ScriptURL: scriptURL}
	if sess := currentSession(c); sess != nil {
		p.UserEmail, p.IsAdmin, p.CSRF = sess.User.Email, sess.User.IsAdmin(), sess.CSRFToken
	}
	p.Flash = takeNext(c, flashCookie)
	return p
}

// securityHeaders is for portal pages: no inline script, no framing, no
// referrer leaking stream ids to other sites.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
			"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		return next(c)
	}
}

func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Second-50*time.Millisecond: // a clip, which whole seconds would call 0:00
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	d = d.Round(time.Second)
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%d:%02d", m, sec)
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
