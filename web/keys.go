package web

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/templates"
)

func (s *Server) keysPage(c echo.Context) error {
	return s.renderKeys(c, http.StatusOK, templates.SigningKeys{})
}

func (s *Server) renderKeys(c echo.Context, code int, v templates.SigningKeys) error {
	keys, err := s.db.SigningKeys(c.Request().Context())
	if err != nil {
		return err
	}
	v.Page = s.page(c, "Signing keys", "keys")
	for _, k := range keys {
		row := templates.SigningKeyRow{ID: k.ID, Name: k.Name, Created: formatTime(k.CreatedAt), Builtin: k.Builtin}
		if !k.RevokedAt.IsZero() {
			row.Revoked = formatTime(k.RevokedAt)
		}
		v.Rows = append(v.Rows, row)
	}
	return render(c, code, templates.SigningKeysPage(v))
}

// createKey shows the private part on the answer itself, never in a
// cookie or a redirect: it exists nowhere else.
func (s *Server) createKey(c echo.Context) error {
	k, _, err := s.jobs.CreateSigningKey(c.Request().Context(), c.FormValue("name"), currentUser(c).ID)
	if errors.Is(err, db.ErrInvalid) {
		return s.renderKeys(c, http.StatusUnprocessableEntity, templates.SigningKeys{FormError: db.Reason(err)})
	} else if err != nil {
		return err
	}
	s.log.Info("signing key created", "kid", k.ID, "by", currentUser(c).Email)
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.renderKeys(c, http.StatusCreated, templates.SigningKeys{NewKeyID: k.ID, NewPrivateKey: k.PrivatePEM})
}

func (s *Server) revokeKey(c echo.Context) error {
	if err := s.jobs.RevokeSigningKey(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	s.log.Info("signing key revoked", "kid", c.Param("id"), "by", currentUser(c).Email)
	s.flash(c, "Key revoked: its tokens stop opening videos within seconds.")
	return c.Redirect(http.StatusSeeOther, "/keys")
}

func (s *Server) setPlayback(c echo.Context) error {
	policy := c.FormValue("playback")
	return s.saveVideo(c, db.StreamUpdate{Playback: &policy}, "Playback policy saved.", func(v *templates.VideoDetail, reason string) {
		v.PlaybackError = reason
	})
}

// testLink is a watch link with a token valid one hour, for the team to
// try a signed stream; "" when the stream is not signed and ready.
func (s *Server) testLink(c echo.Context, st *db.Stream) string {
	if st.Playback != db.PlaybackSigned || st.Status != db.StatusReady {
		return ""
	}
	token, _, err := s.jobs.MintToken(c.Request().Context(), jobs.TokenRequest{StreamID: st.ID, TTL: time.Hour})
	if err != nil {
		s.log.Warn("mint a test link", "stream", st.ID, "err", err)
		return ""
	}
	return s.publicURL + "/watch/" + st.ID + "?token=" + url.QueryEscape(token)
}
