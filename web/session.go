package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/db"
)

const (
	sessionCookie = "edge_session"
	loginCSRF     = "edge_csrf" // double-submit token for forms shown before sign-in
	sessionTTL    = 7 * 24 * time.Hour
	sessionKey    = "session"
)

func currentSession(c echo.Context) *db.Session {
	s, _ := c.Get(sessionKey).(*db.Session)
	return s
}

// loadSession attaches the signed-in session, if the cookie names a live one.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := s.sessionFrom(c.Request().Context(), c.Request().Header)
		if err != nil {
			return err
		}
		if sess != nil {
			c.Set(sessionKey, sess)
			c.Set(userKey, &sess.User)
		}
		return next(c)
	}
}

// sessionFrom finds the live session the cookie names; nil when there is none.
func (s *Server) sessionFrom(ctx context.Context, h http.Header) (*db.Session, error) {
	ck, err := (&http.Request{Header: h}).Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, nil
	}
	sess, err := s.db.SessionByToken(ctx, ck.Value)
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	}
	return sess, err
}

// requireSession sends visitors without a session to the sign-in page.
func (s *Server) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if currentSession(c) != nil {
			return next(c)
		}
		if c.Request().Method != http.MethodGet {
			return unauthorized("sign in first")
		}
		return c.Redirect(http.StatusSeeOther, "/signin?next="+url.QueryEscape(c.Request().URL.RequestURI()))
	}
}

// requireAdmin refuses editors.
func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u := currentUser(c); u == nil || !u.IsAdmin() {
			return forbidden("only admins can manage users and signing keys")
		}
		return next(c)
	}
}

// checkCSRF guards every state-changing form of a signed-in user with the
// session's token, and refuses cross-site requests outright.
func (s *Server) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if isSafe(c.Request().Method) {
			return next(c)
		}
		if err := s.checkOrigin(c); err != nil {
			return err
		}
		sess := currentSession(c)
		if sess == nil || !sameToken(c.FormValue("csrf"), sess.CSRFToken) {
			return forbidden("the form expired or came from another site: reload the page and try again")
		}
		return next(c)
	}
}

// checkLoginCSRF is checkCSRF for the forms shown before there is a session:
// the hidden field must match a cookie only this site could have set.
func (s *Server) checkLoginCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.checkOrigin(c); err != nil {
			return err
		}
		ck, err := c.Cookie(loginCSRF)
		if err != nil || !sameToken(c.FormValue("csrf"), ck.Value) {
			return forbidden("the form expired or came from another site: reload the page and try again")
		}
		return next(c)
	}
}

// checkOrigin refuses unsafe requests whose Origin is another site's.
func (s *Server) checkOrigin(c echo.Context) error {
	origin := c.Request().Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Host != c.Request().Host && origin != s.publicOrigin) {
		return forbidden("cross-site request refused")
	}
	return nil
}

func isSafe(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// loginCSRFToken reuses or sets the pre-session CSRF cookie.
func (s *Server) loginCSRFToken(c echo.Context) string {
	if ck, err := c.Cookie(loginCSRF); err == nil && len(ck.Value) >= 20 {
		return ck.Value
	}
	token := rand.Text()
	c.SetCookie(&http.Cookie{Name: loginCSRF, Value: token, Path: "/", HttpOnly: true, Secure: s.secureCookies, SameSite: http.SameSiteStrictMode})
	return token
}

func (s *Server) startSession(c echo.Context, userID int64) error {
	token, _, err := s.db.CreateSession(c.Request().Context(), userID, sessionTTL)
	if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: s.secureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: int(sessionTTL.Seconds())})
	return nil
}

func (s *Server) endSession(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil {
		if err := s.db.DeleteSession(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: s.secureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	return nil
}
