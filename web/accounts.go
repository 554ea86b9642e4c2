package web

import (
	"crypto/rand"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/templates"
)

func (s *Server) tokensPage(c echo.Context) error {
	return s.renderTokens(c, http.StatusOK, takeNext(c, oneTimeCookie), "")
}

func (s *Server) renderTokens(c echo.Context, code int, secret, formError string) error {
	u := currentUser(c)
	list, err := s.db.ListAPITokens(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	v := templates.Tokens{Page: s.page(c, "API tokens", "tokens"), NewSecret: secret, FormError: formError}
	for _, t := range list {
		used := "never"
		if !t.LastUsedAt.IsZero() {
			used = formatTime(t.LastUsedAt)
		}
		v.Rows = append(v.Rows, templates.TokenRow{ID: t.ID, Name: t.Name, Prefix: t.Prefix, Created: formatTime(t.CreatedAt), LastUsed: used})
	}
	return render(c, code, templates.TokensPage(v))
}

func (s *Server) createToken(c echo.Context) error {
	secret, _, err := s.db.CreateAPIToken(c.Request().Context(), currentUser(c).ID, c.FormValue("name"))
	if errors.Is(err, db.ErrInvalid) {
		return s.renderTokens(c, http.StatusUnprocessableEntity, "", db.Reason(err))
	} else if err != nil {
		return err
	}
	s.showOnce(c, secret)
	return c.Redirect(http.StatusSeeOther, "/tokens")
}

func (s *Server) revokeToken(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return badRequest("bad token id")
	}
	if err := s.db.RevokeAPIToken(c.Request().Context(), currentUser(c).ID, id); err != nil {
		return err
	}
	s.flash(c, "Token revoked: scripts using it now get 401.")
	return c.Redirect(http.StatusSeeOther, "/tokens")
}

func (s *Server) usersPage(c echo.Context) error {
	v := templates.Users{}
	if once := takeNext(c, oneTimeCookie); once != "" {
		v.NewEmail, v.NewPassword, _ = strings.Cut(once, "\n")
	}
	return s.renderUsers(c, http.StatusOK, v)
}

func (s *Server) renderUsers(c echo.Context, code int, v templates.Users) error {
	list, err := s.db.ListUsers(c.Request().Context())
	if err != nil {
		return err
	}
	v.Page = s.page(c, "Users", "users")
	me := currentUser(c)
	for _, u := range list {
		v.Rows = append(v.Rows, templates.UserRow{ID: u.ID, Email: u.Email, Role: string(u.Role), Created: formatTime(u.CreatedAt), IsSelf: u.ID == me.ID})
	}
	return render(c, code, templates.UsersPage(v))
}

func (s *Server) addUser(c echo.Context) error {
	password := rand.Text()
	u, err := s.db.CreateUser(c.Request().Context(), c.FormValue("email"), password, db.Role(c.FormValue("role")))
	switch {
	case errors.Is(err, db.ErrInvalid):
		return s.renderUsers(c, http.StatusUnprocessableEntity, templates.Users{FormError: db.Reason(err)})
	case errors.Is(err, db.ErrConflict):
		return s.renderUsers(c, http.StatusConflict, templates.Users{FormError: err.Error()})
	case err != nil:
		return err
	}
	s.log.Info("user added", "email", u.Email, "role", u.Role, "by", currentUser(c).Email)
	s.showOnce(c, u.Email+"\n"+password)
	return c.Redirect(http.StatusSeeOther, "/users")
}

func (s *Server) removeUser(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return badRequest("bad user id")
	}
	if id == currentUser(c).ID {
		return apperr.New(apperr.Invalid, "you cannot remove your own account")
	}
	if err := s.db.DeleteUser(c.Request().Context(), id); err != nil {
		return err
	}
	s.flash(c, "User removed; their sessions and tokens no longer work.")
	return c.Redirect(http.StatusSeeOther, "/users")
}

func (s *Server) accountPage(c echo.Context) error {
	return render(c, http.StatusOK, templates.AccountPage(templates.Account{Page: s.page(c, "Your account", "account")}))
}

// changePassword needs the current password (a session left open on a
// shared computer is not enough to take the account over) and signs the
// account's other sessions out.
func (s *Server) changePassword(c echo.Context) error {
	ctx := c.Request().Context()
	me := currentUser(c)
	refuse := func(msg string) error {
		return render(c, http.StatusUnprocessableEntity, templates.AccountPage(templates.Account{Page: s.page(c, "Your account", "account"), FormError: msg}))
	}
	if _, err := s.db.Authenticate(ctx, me.Email, c.FormValue("current")); errors.Is(err, db.ErrNotFound) {
		return refuse("current password: that is not your password")
	} else if err != nil {
		return err
	}
	if c.FormValue("password") != c.FormValue("confirm") {
		return refuse("new password: the two entries differ")
	}
	ck, _ := c.Cookie(sessionCookie)
	err := s.db.SetPassword(ctx, me.ID, c.FormValue("password"), ck.Value)
	if errors.Is(err, db.ErrInvalid) {
		return refuse("new " + db.Reason(err))
	} else if err != nil {
		return err
	}
	s.log.Info("password changed", "email", me.Email)
	s.flash(c, "Password changed; your other sessions are signed out.")
	return c.Redirect(http.StatusSeeOther, "/account")
}

// resetPassword gives another account a generated password, shown once,
// and signs it out everywhere.
func (s *Server) resetPassword(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return badRequest("bad user id")
	}
	u, err := s.db.UserByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	password := rand.Text()
	if err := s.db.SetPassword(c.Request().Context(), id, password, ""); err != nil {
		return err
	}
	s.log.Info("password reset", "email", u.Email, "by", currentUser(c).Email)
	s.showOnce(c, u.Email+"\n"+password)
	return c.Redirect(http.StatusSeeOther, "/users")
}
