package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/templates"
)

func (s *Server) signInPage(c echo.Context) error {
	if currentSession(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return render(c, http.StatusOK, templates.SignInPage(templates.SignIn{
		CSSURL: cssURL, CSRF: s.loginCSRFToken(c), Next: safeNext(c.QueryParam("next")),
	}))
}

func (s *Server) signIn(c echo.Context) error {
	email := strings.ToLower(strings.TrimSpace(c.FormValue("email")))
	form := templates.SignIn{CSSURL: cssURL, CSRF: s.loginCSRFToken(c), Email: email, Next: safeNext(c.FormValue("next"))}
	ip := c.RealIP()
	ctx := c.Request().Context()
	try, wait, err := s.signIns.begin(ctx, email, limitKey(ip))
	if err != nil {
		return err
	}
	if try == nil {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		form.Error = "Too many failed sign-ins. Wait " + wait.Round(time.Second).String() + " and try again."
		return render(c, http.StatusTooManyRequests, templates.SignInPage(form))
	}
	u, err := s.db.Authenticate(ctx, email, c.FormValue("password"))
	if errors.Is(err, db.ErrNotFound) {
		s.log.Info("sign-in failed", "email", email, "ip", ip)
		form.Error = "That email and password do not match an account."
		return render(c, http.StatusUnauthorized, templates.SignInPage(form))
	} else if err != nil {
		return err
	}
	if err := s.signIns.succeeded(ctx, try); err != nil {
		return err
	}
	if err := s.startSession(c, u.ID); err != nil {
		return err
	}
	s.log.Info("signed in", "email", u.Email, "ip", ip)
	return c.Redirect(http.StatusSeeOther, form.Next)
}

func (s *Server) signOut(c echo.Context) error {
	if err := s.endSession(c); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/signin")
}

// safeNext keeps post-sign-in redirects on this site: a path, nothing a
// browser could read as another host. Browsers drop tabs and newlines
// from URLs and read a backslash as a slash, so "/\t/evil.example" and
// "/\\evil.example" are other hosts to them; any control character or
// backslash is refused, and what is left must parse as a bare path.
func safeNext(next string) string {
	for _, r := range next {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

// setupOpen reports whether the one-time setup link still works: it does
// until the first account exists.
func (s *Server) setupOpen(ctx context.Context, token string) (bool, error) {
	if s.setupToken == "" || subtle.ConstantTimeCompare([]byte(token), []byte(s.setupToken)) != 1 {
		return false, nil
	}
	n, err := s.db.CountUsers(ctx)
	return n == 0, err
}

func (s *Server) setupPage(c echo.Context) error {
	ok, err := s.setupOpen(c.Request().Context(), c.Param("token"))
	if err != nil {
		return err
	}
	if !ok {
		return apperr.New(apperr.NotFound, "This setup link has been used or is wrong. Sign in instead.")
	}
	return render(c, http.StatusOK, templates.SetupPage(templates.Setup{CSSURL: cssURL, CSRF: s.loginCSRFToken(c), Token: c.Param("token")}))
}

func (s *Server) setup(c echo.Context) error {
	ctx := c.Request().Context()
	ok, err := s.setupOpen(ctx, c.Param("token"))
	if err != nil {
		return err
	}
	if !ok {
		return apperr.New(apperr.NotFound, "This setup link has been used or is wrong. Sign in instead.")
	}
	u, err := s.db.CreateUser(ctx, c.FormValue("email"), c.FormValue("password"), db.RoleAdmin)
	if errors.Is(err, db.ErrInvalid) {
		return render(c, http.StatusUnprocessableEntity, templates.SetupPage(templates.Setup{
			CSSURL: cssURL, CSRF: s.loginCSRFToken(c), Token: c.Param("token"), Email: c.FormValue("email"),
			Error: db.Reason(err),
		}))
	} else if err != nil {
		return err
	}
	s.log.Info("first admin created through the setup link", "email", u.Email)
	if err := s.startSession(c, u.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}
