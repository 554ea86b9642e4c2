package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/templates"
)

// deliveriesShown is how much of an endpoint's log its page shows.
const deliveriesShown = 100

func (s *Server) webhooksPage(c echo.Context) error {
	return s.renderWebhooks(c, http.StatusOK, templates.Webhooks{})
}

func (s *Server) renderWebhooks(c echo.Context, code int, v templates.Webhooks) error {
	ctx := c.Request().Context()
	list, err := s.db.WebhookEndpoints(ctx)
	if err != nil {
		return err
	}
	v.Page, v.Events = s.page(c, "Webhooks", "webhooks"), db.EventTypes
	for i := range list {
		row := webhookRow(&list[i])
		log, err := s.db.Deliveries(ctx, list[i].ID, deliveriesShown)
		if err != nil {
			return err
		}
		for _, d := range log {
			row.Pending += boolInt(d.State == db.DeliveryPending)
			row.Failed += boolInt(d.State == db.DeliveryFailed)
		}
		v.Rows = append(v.Rows, row)
	}
	return render(c, code, templates.WebhooksPage(v))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func webhookRow(e *db.WebhookEndpoint) templates.WebhookRow {
	return templates.WebhookRow{ID: e.ID, URL: e.URL, Description: e.Description, Created: formatTime(e.CreatedAt)}
}

// addWebhook shows the secret on the answer itself, never in a cookie or
// a redirect, as a new API token is.
func (s *Server) addWebhook(c echo.Context) error {
	rawURL, description := c.FormValue("url"), c.FormValue("description")
	e, err := s.createWebhook(c.Request().Context(), rawURL, description, currentUser(c))
	if reason, refused := refusal(err); refused {
		return s.renderWebhooks(c, http.StatusUnprocessableEntity, templates.Webhooks{FormError: reason, URLValue: rawURL, Description: description})
	} else if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.renderWebhooks(c, http.StatusCreated, templates.Webhooks{NewID: e.ID, NewSecret: e.Secret})
}

// refusal is the message for the person of an error caused by what they
// typed (a 422, by the one map in errors.go), if it is one.
func refusal(err error) (string, bool) {
	if err == nil {
		return "", false
	}
	code, _, msg := classify(err)
	return msg, code == http.StatusUnprocessableEntity
}

func (s *Server) webhookPage(c echo.Context) error {
	e, err := s.webhookParam(c)
	if err != nil {
		return err
	}
	log, err := s.db.Deliveries(c.Request().Context(), e.ID, deliveriesShown)
	if err != nil {
		return err
	}
	v := templates.WebhookDetail{Page: s.page(c, "Webhook "+e.URL, "webhooks"), WebhookRow: webhookRow(e)}
	for _, d := range log {
		row := templates.DeliveryRow{ID: d.ID, Event: d.EventType, StreamID: d.StreamID, WebhookID: d.EventID,
			At: formatTime(d.EventAt), State: d.State, Codes: codesText(d.Codes), LastError: d.LastError}
		if d.State == db.DeliveryPending && d.Attempts > 0 {
			row.NextRetry = formatTime(d.NextAttemptAt)
		}
		v.Deliveries = append(v.Deliveries, row)
	}
	return render(c, http.StatusOK, templates.WebhookPage(v))
}

// codesText is the answers of each attempt, "—" for none.
func codesText(codes []int) string {
	var out []string
	for _, c := range codes {
		if c == 0 {
			out = append(out, "—")
		} else {
			out = append(out, strconv.Itoa(c))
		}
	}
	return strings.Join(out, " ")
}

func (s *Server) redeliverWebhook(c echo.Context) error {
	if err := s.redeliver(c); err != nil {
		return err
	}
	s.flash(c, "Delivery queued: it is sent again within seconds, with the same webhook-id.")
	return c.Redirect(http.StatusSeeOther, "/webhooks/"+c.Param("id"))
}

func (s *Server) removeWebhook(c echo.Context) error {
	e, err := s.webhookParam(c)
	if err != nil {
		return err
	}
	if err := s.db.DeleteWebhookEndpoint(c.Request().Context(), e.ID); err != nil {
		return err
	}
	s.log.Info("webhook endpoint removed", "endpoint", e.ID, "by", currentUser(c).Email)
	s.flash(c, "Endpoint removed: it gets no more events.")
	return c.Redirect(http.StatusSeeOther, "/webhooks")
}
