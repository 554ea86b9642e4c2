package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

// Values carried to the next page load in a short-lived HttpOnly cookie:
// a one-line confirmation, or a secret shown once (a new token, a generated
// password), which so never appears in a URL, a log or the browser history.
const (
	flashCookie   = "edge_flash"
	oneTimeCookie = "edge_once"
)

func (s *Server) setNext(c echo.Context, name, value string, sameSite http.SameSite) {
	c.SetCookie(&http.Cookie{Name: name, Value: url.QueryEscape(value), Path: "/", HttpOnly: true,
		Secure: s.secureCookies, SameSite: sameSite, MaxAge: 60})
}

// takeNext reads a carried value once and clears it.
func takeNext(c echo.Context, name string) string {
	ck, err := c.Cookie(name)
	if err != nil {
		return ""
	}
	c.SetCookie(&http.Cookie{Name: name, Path: "/", MaxAge: -1})
	v, _ := url.QueryUnescape(ck.Value)
	return v
}

// flash shows a one-line confirmation on the next page.
func (s *Server) flash(c echo.Context, msg string) {
	s.setNext(c, flashCookie, msg, http.SameSiteLaxMode)
}

// showOnce shows a secret on the next page only.
func (s *Server) showOnce(c echo.Context, secret string) {
	s.setNext(c, oneTimeCookie, secret, http.SameSiteStrictMode)
}
