package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/db"
)

const userKey = "user"

func currentUser(c echo.Context) *db.User {
	u, _ := c.Get(userKey).(*db.User)
	return u
}

// requireToken admits API requests that carry a valid Bearer token.
func (s *Server) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		secret, ok := bearerToken(c.Request().Header)
		if !ok {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="edge"`)
			return unauthorized("send Authorization: Bearer <token> (make one with `edge token create`)")
		}
		u, err := s.db.UserByAPIToken(c.Request().Context(), secret)
		if errors.Is(err, db.ErrNotFound) {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="edge", error="invalid_token"`)
			return unauthorized("the token is not valid (revoked or mistyped)")
		} else if err != nil {
			return err
		}
		c.Set(userKey, u)
		return next(c)
	}
}

// bearerToken reads "Authorization: Bearer <token>".
func bearerToken(h http.Header) (string, bool) {
	secret, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
	secret = strings.TrimSpace(secret)
	return secret, ok && secret != ""
}
