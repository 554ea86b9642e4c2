package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/internal/apperr"
)

// webhookJSON is an endpoint as the API shows it; Secret only on creation.
type webhookJSON struct {
	ID          int64     `json:"id"`
	URL         string    `json:"url"`
	Description string    `json:"description"`
	Events      []string  `json:"events"`
	CreatedAt   time.Time `json:"created_at"`
	Secret      string    `json:"secret,omitempty"`
}

func webhookView(e *db.WebhookEndpoint) webhookJSON {
	return webhookJSON{ID: e.ID, URL: e.URL, Description: e.Description, Events: db.EventTypes, CreatedAt: e.CreatedAt}
}

type deliveryJSON struct {
	ID            int64      `json:"id"`
	WebhookID     string     `json:"webhook_id"` // the webhook-id header, the same on every attempt
	Event         string     `json:"event"`
	StreamID      string     `json:"stream_id"`
	EventAt       time.Time  `json:"event_at"`
	State         string     `json:"state"` // pending, delivered or failed
	Attempts      int        `json:"attempts"`
	Codes         []int      `json:"codes"` // each attempt's HTTP status, oldest first; 0: no answer
	LastError     string     `json:"last_error"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
}

func deliveryView(v db.Delivery) deliveryJSON {
	out := deliveryJSON{ID: v.ID, WebhookID: v.EventID, Event: v.EventType, StreamID: v.StreamID, EventAt: v.EventAt,
		State: v.State, Attempts: v.Attempts, Codes: orEmpty(v.Codes), LastError: v.LastError}
	if v.State == db.DeliveryPending {
		out.NextAttemptAt = &v.NextAttemptAt
	}
	if !v.LastAttemptAt.IsZero() {
		out.LastAttemptAt = &v.LastAttemptAt
	}
	return out
}

// createWebhook checks the URL (reachable, not inside: SSRF) and stores
// the endpoint under a new secret; portal and API share it.
func (s *Server) createWebhook(ctx context.Context, rawURL, description string, by *db.User) (*db.WebhookEndpoint, error) {
	if s.webhooks == nil {
		return nil, apperr.New(apperr.Invalid, "url: outgoing webhooks are disabled on this server")
	}
	u, err := s.webhooks.CheckURL(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	e, err := s.db.CreateWebhookEndpoint(ctx, u.String(), description, by.ID)
	if err != nil {
		return nil, err
	}
	s.log.Info("webhook endpoint added", "endpoint", e.ID, "url", e.URL, "by", by.Email)
	return e, nil
}

func (s *Server) apiListWebhooks(c echo.Context) error {
	list, err := s.db.WebhookEndpoints(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]webhookJSON, 0, len(list))
	for i := range list {
		out = append(out, webhookView(&list[i]))
	}
	return c.JSON(http.StatusOK, map[string]any{"webhooks": out})
}

func (s *Server) apiCreateWebhook(c echo.Context) error {
	var req struct {
		URL         string `json:"url"`
		Description string `json:"description"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	e, err := s.createWebhook(c.Request().Context(), req.URL, req.Description, currentUser(c))
	if err != nil {
		return err
	}
	out := webhookView(e)
	out.Secret = e.Secret
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) apiGetWebhook(c echo.Context) error {
	e, err := s.webhookParam(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, webhookView(e))
}

func (s *Server) apiDeleteWebhook(c echo.Context) error {
	e, err := s.webhookParam(c)
	if err != nil {
		return err
	}
	if err := s.db.DeleteWebhookEndpoint(c.Request().Context(), e.ID); err != nil {
		return err
	}
	s.log.Info("webhook endpoint removed", "endpoint", e.ID, "by", currentUser(c).Email)
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiListDeliveries(c echo.Context) error {
	e, err := s.webhookParam(c)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", 50, 1, 200)
	if err != nil {
		return err
	}
	list, err := s.db.Deliveries(c.Request().Context(), e.ID, limit)
	if err != nil {
		return err
	}
	out := make([]deliveryJSON, 0, len(list))
	for _, v := range list {
		out = append(out, deliveryView(v))
	}
	return c.JSON(http.StatusOK, map[string]any{"deliveries": out})
}

func (s *Server) apiRedeliver(c echo.Context) error {
	if err := s.redeliver(c); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]string{"status": "queued"})
}

// redeliver queues a delivery again: the same event, the same webhook-id.
func (s *Server) redeliver(c echo.Context) error {
	e, err := s.webhookParam(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("delivery"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "no such delivery")
	}
	if err := s.db.Redeliver(c.Request().Context(), e.ID, id); err != nil {
		return err
	}
	if s.webhooks != nil {
		s.webhooks.Wake()
	}
	return nil
}

// webhookParam is the endpoint named by the :id in the path.
func (s *Server) webhookParam(c echo.Context) (*db.WebhookEndpoint, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return nil, apperr.New(apperr.NotFound, "no such webhook endpoint")
	}
	return s.db.WebhookEndpoint(c.Request().Context(), id)
}
