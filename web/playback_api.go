package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/jobs"
	"github.com/edgehls/edge/proxy"
)

type updateStreamRequest struct {
	Title          *string   `json:"title"`
	PlaybackPolicy *string   `json:"playback_policy"`
	AllowedDomains *[]string `json:"allowed_domains"`
	Downloads      *bool     `json:"downloads"`
}

// apiUpdateStream changes the fields sent and leaves the others; a bad
// field changes nothing.
func (s *Server) apiUpdateStream(c echo.Context) error {
	var req updateStreamRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	id := c.Param("id")
	err := s.jobs.UpdateStream(ctx, id, db.StreamUpdate{Title: req.Title, Playback: req.PlaybackPolicy, EmbedDomains: req.AllowedDomains, Downloads: req.Downloads})
	if err != nil {
		return err
	}
	st, err := s.db.Stream(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.streamJSON(st))
}

type tokenRequest struct {
	TTL  *int64 `json:"ttl"`  // seconds; default one hour
	Kind string `json:"kind"` // "video", "poster" or "" for both
	IP   string `json:"ip"`   // bind to a viewer's address or prefix
}

type tokenJSON struct {
	Token       string    `json:"token"`
	ExpiresAt   time.Time `json:"expires_at"`
	MasterURL   string    `json:"master_url"`
	EmbedURL    string    `json:"embed_url"`
	PosterURL   string    `json:"poster_url,omitempty"`
	DownloadURL string    `json:"download_url,omitempty"` // when the video offers its MP4
}

// defaultTokenTTL is a minted token's life when the request names none.
const defaultTokenTTL = time.Hour

// apiCreatePlaybackToken mints a token for scripts that do not sign their
// own, with URLs that carry it.
func (s *Server) apiCreatePlaybackToken(c echo.Context) error {
	var req tokenRequest
	if c.Request().ContentLength != 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	ttl := defaultTokenTTL
	if req.TTL != nil {
		if *req.TTL <= 0 || *req.TTL > int64(jobs.MaxTokenTTL/time.Second) {
			return apperr.New(apperr.Invalid, "ttl: seconds, from 1 to 31622400 (366 days)")
		}
		ttl = time.Duration(*req.TTL) * time.Second
	}
	ctx := c.Request().Context()
	id := c.Param("id")
	token, exp, err := s.jobs.MintToken(ctx, jobs.TokenRequest{StreamID: id, TTL: ttl, Kind: req.Kind, IP: req.IP})
	if err != nil {
		return err
	}
	st, err := s.db.Stream(ctx, id)
	if err != nil {
		return err
	}
	out := tokenJSON{Token: token, ExpiresAt: exp.UTC(), MasterURL: s.publicURL + proxy.PathPrefix + token + "/master.m3u8",
		EmbedURL: s.embedURL(id) + "?token=" + url.QueryEscape(token)}
	if st.PosterKey != "" {
		out.PosterURL = s.publicURL + signedPath(st.PosterKey, id, token)
	}
	if key := st.OfferedDownload(); key != "" {
		out.DownloadURL = s.publicURL + signedPath(key, id, token)
	}
	return c.JSON(http.StatusCreated, out)
}

type signingKeyJSON struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	PublicKey  string     `json:"public_key"`
	PrivateKey string     `json:"private_key,omitempty"` // only in the answer that creates it
	Builtin    bool       `json:"builtin"`
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

func signingKeyView(k db.SigningKey) signingKeyJSON {
	out := signingKeyJSON{ID: k.ID, Name: k.Name, PublicKey: k.PublicPEM, Builtin: k.Builtin, CreatedAt: k.CreatedAt}
	if !k.RevokedAt.IsZero() {
		out.RevokedAt = &k.RevokedAt
	}
	return out
}

func (s *Server) apiListSigningKeys(c echo.Context) error {
	keys, err := s.db.SigningKeys(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]signingKeyJSON, 0, len(keys))
	for _, k := range keys {
		out = append(out, signingKeyView(k))
	}
	return c.JSON(http.StatusOK, map[string]any{"signing_keys": out})
}

func (s *Server) apiCreateSigningKey(c echo.Context) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	k, rec, err := s.jobs.CreateSigningKey(c.Request().Context(), req.Name, currentUser(c).ID)
	if err != nil {
		return err
	}
	s.log.Info("signing key created", "kid", k.ID, "by", currentUser(c).Email)
	out := signingKeyView(*rec)
	out.PrivateKey = k.PrivatePEM
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) apiRevokeSigningKey(c echo.Context) error {
	if err := s.jobs.RevokeSigningKey(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	s.log.Info("signing key revoked", "kid", c.Param("id"), "by", currentUser(c).Email)
	return c.NoContent(http.StatusNoContent)
}

// signedPath is a stream object's URL path with a token in place of the
// stream id: streams/<id>/poster.jpg becomes /streams/<token>/poster.jpg.
func signedPath(key, id, token string) string {
	file, ok := strings.CutPrefix(key, proxy.PathPrefix[1:]+id+"/")
	if !ok {
		return "/" + key
	}
	return proxy.PathPrefix + token + "/" + file
}
