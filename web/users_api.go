package web

import (
	"crypto/rand"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
)

type userJSON struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Role      db.Role   `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	Password  string    `json:"password,omitempty"` // only in the answer that creates the account
}

// apiListUsers, apiAddUser and apiRemoveUser do what the Users page does,
// for admins.
func (s *Server) apiListUsers(c echo.Context) error {
	list, err := s.db.ListUsers(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]userJSON, 0, len(list))
	for _, u := range list {
		out = append(out, userJSON{ID: u.ID, Email: u.Email, Role: u.Role, CreatedAt: u.CreatedAt})
	}
	return c.JSON(http.StatusOK, map[string]any{"users": out})
}

func (s *Server) apiAddUser(c echo.Context) error {
	var req struct {
		Email string  `json:"email"`
		Role  db.Role `json:"role"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Role == "" {
		req.Role = db.RoleEditor
	}
	password := rand.Text()
	u, err := s.db.CreateUser(c.Request().Context(), req.Email, password, req.Role)
	if err != nil {
		return err
	}
	s.log.Info("user added", "email", u.Email, "role", u.Role, "by", currentUser(c).Email)
	return c.JSON(http.StatusCreated, userJSON{ID: u.ID, Email: u.Email, Role: u.Role, CreatedAt: u.CreatedAt, Password: password})
}

func (s *Server) apiRemoveUser(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return badRequest("id: a user id is a whole number")
	}
	if id == currentUser(c).ID {
		return apperr.New(apperr.Invalid, "id: you cannot remove your own account")
	}
	if err := s.db.DeleteUser(c.Request().Context(), id); err != nil {
		return err
	}
	s.log.Info("user removed", "id", id, "by", currentUser(c).Email)
	return c.NoContent(http.StatusNoContent)
}

// apiResetPassword gives an account a generated password, in this answer
// only, and signs it out everywhere (the Users page's reset).
func (s *Server) apiResetPassword(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return badRequest("id: a user id is a whole number")
	}
	ctx := c.Request().Context()
	u, err := s.db.UserByID(ctx, id)
	if err != nil {
		return err
	}
	password := rand.Text()
	if err := s.db.SetPassword(ctx, id, password, ""); err != nil {
		return err
	}
	s.log.Info("password reset", "email", u.Email, "by", currentUser(c).Email)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, userJSON{ID: u.ID, Email: u.Email, Role: u.Role, CreatedAt: u.CreatedAt, Password: password})
}
