package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// WebhookEndpoint is a URL that receives every event, signed with its
// secret (whsec_…, Standard Webhooks' format).
type WebhookEndpoint struct {
	ID          int64
	URL         string
	Description string
	Secret      string
	CreatedBy   int64
	CreatedAt   time.Time
}

// MaxWebhookEndpoints bounds the endpoints of one installation.
const MaxWebhookEndpoints = 20

// CreateWebhookEndpoint stores an endpoint under a fresh secret. The URL is
// the caller's to check (it must be reachable and not internal).
func (d *DB) CreateWebhookEndpoint(ctx context.Context, url, description string, createdBy int64) (*WebhookEndpoint, error) {
	description = strings.TrimSpace(description)
	if len(description) > 200 {
		return nil, fmt.Errorf("description: at most 200 characters: %w", ErrInvalid)
	}
	key := make([]byte, 32)
	rand.Read(key)
	e := &WebhookEndpoint{URL: url, Description: description, Secret: "whsec_" + base64.StdEncoding.EncodeToString(key),
		CreatedBy: createdBy, CreatedAt: d.nowMS()}
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM webhook_endpoints`).Scan(&n); err != nil {
			return err
		}
		if n >= MaxWebhookEndpoints {
			return fmt.Errorf("url: at most %d webhook endpoints; remove one first: %w", MaxWebhookEndpoints, ErrInvalid)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO webhook_endpoints (url, description, secret, created_by, created_at) VALUES (?, ?, ?, ?, ?)`,
			e.URL, e.Description, e.Secret, nullID(createdBy), ms(e.CreatedAt))
		if err != nil {
			return fmt.Errorf("create webhook endpoint: %w", err)
		}
		e.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

const endpointColumns = `id, url, description, secret, coalesce(created_by, 0), created_at`

func scanEndpoint(s scanner) (*WebhookEndpoint, error) {
	var e WebhookEndpoint
	var created int64
	if err := s.Scan(&e.ID, &e.URL, &e.Description, &e.Secret, &e.CreatedBy, &created); err != nil {
		return nil, notFound(err, "webhook endpoint")
	}
	e.CreatedAt = fromMS(created)
	return &e, nil
}

// WebhookEndpoint finds one endpoint.
func (d *DB) WebhookEndpoint(ctx context.Context, id int64) (*WebhookEndpoint, error) {
	return scanEndpoint(d.sql.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints WHERE id = ?`, id))
}

// WebhookEndpoints lists the endpoints, oldest first.
func (d *DB) WebhookEndpoints(ctx context.Context) ([]WebhookEndpoint, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT `+endpointColumns+` FROM webhook_endpoints ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	defer rows.Close()
	var out []WebhookEndpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, rows.Err()
}

// DeleteWebhookEndpoint removes an endpoint and its deliveries.
func (d *DB) DeleteWebhookEndpoint(ctx context.Context, id int64) error {
	res, err := d.sql.ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete webhook endpoint %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("webhook endpoint %d: %w", id, ErrNotFound)
	}
	return nil
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed" // every retry used up
)

// Delivery is one event's way to one endpoint.
type Delivery struct {
	ID            int64
	EndpointID    int64
	EventID       string // the webhook-id
	EventType     string
	StreamID      string
	EventAt       time.Time
	State         string
	Attempts      int   // len(Codes)
	Codes         []int // HTTP status of each attempt, oldest first; 0: no answer
	LastError     string
	NextAttemptAt time.Time // while pending
	LastAttemptAt time.Time // zero before the first
}

// DueDelivery is a delivery to attempt now, with what it needs to be sent.
type DueDelivery struct {
	Delivery
	URL, Secret string
	Stream      Stream // as it was at the event
}

const deliveryColumns = `d.id, d.endpoint_id, d.event_id, e.type, e.stream_id, e.created_at, d.state, d.codes,
	d.last_error, d.next_attempt_at, d.last_attempt_at`

func scanDelivery(s scanner, extra ...any) (*Delivery, error) {
	var v Delivery
	var at, next, last int64
	var codes string
	dest := append([]any{&v.ID, &v.EndpointID, &v.EventID, &v.EventType, &v.StreamID, &at, &v.State, &codes,
		&v.LastError, &next, &last}, extra...)
	if err := s.Scan(dest...); err != nil {
		return nil, notFound(err, "delivery")
	}
	v.EventAt, v.NextAttemptAt = fromMS(at), fromMS(next)
	if last > 0 {
		v.LastAttemptAt = fromMS(last)
	}
	for _, c := range strings.Fields(codes) {
		n, _ := strconv.Atoi(c)
		v.Codes = append(v.Codes, n)
	}
	v.Attempts = len(v.Codes)
	return &v, nil
}

// ClaimDeliveries returns up to limit pending deliveries that are due, and
// puts their next attempt lease later: should edge stop while sending, the
// delivery is tried again then, never lost.
func (d *DB) ClaimDeliveries(ctx context.Context, limit int, lease time.Duration) ([]DueDelivery, error) {
	now := d.now()
	var out []DueDelivery
	err := d.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+deliveryColumns+`, w.url, w.secret, e.stream
			FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id JOIN webhook_endpoints w ON w.id = d.endpoint_id
			WHERE d.state = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.id LIMIT ?`, ms(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var due DueDelivery
			var snapshot string
			v, err := scanDelivery(rows, &due.URL, &due.Secret, &snapshot)
			if err != nil {
				return err
			}
			due.Delivery = *v
			if err := json.Unmarshal([]byte(snapshot), &due.Stream); err != nil {
				return fmt.Errorf("event %s: %w", v.EventID, err)
			}
			out = append(out, due)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, due := range out {
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?`, ms(now.Add(lease)), due.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return out, nil
}

// Attempt is how one try of a delivery went.
type Attempt struct {
	Status int    // the HTTP status; 0 when no answer came
	Error  string // what went wrong, for the delivery log; "" on success
	// Next is when to try again; zero: never (delivered, or out of retries).
	Next time.Time
}

// RecordAttempt notes an attempt: a 2xx delivers, otherwise the delivery
// waits for a.Next, or fails when there is none.
func (d *DB) RecordAttempt(ctx context.Context, id int64, a Attempt) error {
	state := DeliveryPending
	switch {
	case a.Status >= 200 && a.Status < 300:
		state = DeliveryDelivered
	case a.Next.IsZero():
		state = DeliveryFailed
	}
	_, err := d.sql.ExecContext(ctx, `UPDATE webhook_deliveries SET state = ?,
		codes = trim(codes || ' ' || ?), last_error = ?, next_attempt_at = ?, last_attempt_at = ? WHERE id = ?`,
		state, a.Status, a.Error, ms(a.Next), ms(d.now()), id)
	if err != nil {
		return fmt.Errorf("record delivery %d: %w", id, err)
	}
	return nil
}

// Deliveries lists an endpoint's latest deliveries, newest first.
func (d *DB) Deliveries(ctx context.Context, endpointID int64, limit int) ([]Delivery, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
		WHERE d.endpoint_id = ? ORDER BY d.id DESC LIMIT ?`, endpointID, limit)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		v, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}

// Redeliver makes a delivery due now, whatever its state: the same event
// (same webhook-id) is sent again, for a receiver that lost or refused it.
func (d *DB) Redeliver(ctx context.Context, endpointID, id int64) error {
	res, err := d.sql.ExecContext(ctx, `UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = ? WHERE id = ? AND endpoint_id = ?`,
		ms(d.now()), id, endpointID)
	if err != nil {
		return fmt.Errorf("redeliver %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delivery %d: %w", id, ErrNotFound)
	}
	return nil
}

// PruneWebhookEvents forgets events recorded before a time whose
// deliveries are all over (delivered or failed).
func (d *DB) PruneWebhookEvents(ctx context.Context, before time.Time) (int64, error) {
	res, err := d.sql.ExecContext(ctx, `DELETE FROM webhook_events WHERE created_at < ?
		AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id AND d.state = 'pending')`, ms(before))
	if err != nil {
		return 0, fmt.Errorf("prune webhook events: %w", err)
	}
	return res.RowsAffected()
}
