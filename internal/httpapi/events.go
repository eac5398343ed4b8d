package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/partsmarket/gateway/internal/abuse"
	"github.com/partsmarket/gateway/internal/events"
	"github.com/partsmarket/gateway/store"
)

// EventRecorder checks buyer events and queues them (events.Ingestor).
type EventRecorder interface {
	Record(ctx context.Context, prefix string, evs []events.Input, req events.Request) error
}

// Limits of POST /events.
const (
	maxEventsBody    = 64 << 10
	maxEventsPerPost = 100
)

// eventsHandler serves POST /events: one event, as recordEvent's input in
// JSON, or an array of at most maxEventsPerPost, sent as application/json or
// text/plain (navigator.sendBeacon). 204 once queued; 400 with a JSON error
// naming the field for bad input (nothing of the request is queued then);
// 413 over the size limit; 415 for another content type; 429 with
// Retry-After when the client IP's event budget cannot pay for the events
// (the budget recordEvent shares) or while the event buffer is full; 503
// with Retry-After when the database cannot be reached to check the events.
func eventsHandler(rec EventRecorder, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "" {
			mediaType, _, _ := mime.ParseMediaType(ct)
			if mediaType != "application/json" && mediaType != "text/plain" {
				writeEventError(w, r, http.StatusUnsupportedMediaType, codeBadRequest, "", "content type must be application/json or text/plain")
				return
			}
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxEventsBody+1))
		switch {
		case err != nil:
			writeEventError(w, r, http.StatusBadRequest, codeBadRequest, "", "could not read the request body")
			return
		case len(body) > maxEventsBody:
			writeEventError(w, r, http.StatusRequestEntityTooLarge, codePayloadTooLarge, "", "request body is too large")
			return
		}
		var evs []events.Input
		trimmed := bytes.TrimLeft(body, " \t\r\n")
		if len(trimmed) > 0 && trimmed[0] == '[' {
			err = json.Unmarshal(trimmed, &evs)
		} else {
			var ev events.Input
			err = json.Unmarshal(trimmed, &ev)
			evs = []events.Input{ev}
		}
		switch {
		case err != nil:
			writeEventError(w, r, http.StatusBadRequest, codeBadRequest, "", "body must be an event or an array of events in JSON")
			return
		case len(evs) == 0:
			writeEventError(w, r, http.StatusBadRequest, store.EINVALID, "", "no events")
			return
		case len(evs) > maxEventsPerPost:
			writeEventError(w, r, http.StatusBadRequest, store.EINVALID, "", "at most 100 events per request")
			return
		}
		err = rec.Record(r.Context(), "", evs, events.Request{UserAgent: r.UserAgent(), ClientIP: abuse.ClientIP(r.Context()), At: time.Now(),
			OptedOut: events.OptedOut(r.Header)})
		var fe store.FieldErrors
		var limited *events.LimitedError
		switch {
		case err == nil:
			w.WriteHeader(http.StatusNoContent)
		case errors.As(err, &limited):
			w.Header().Set("Retry-After", RetryAfterSeconds(limited.RetryAfter))
			writeEventError(w, r, http.StatusTooManyRequests, store.ERATELIMITED, "",
				"too many events from this address; retry in "+RetryAfterSeconds(limited.RetryAfter)+" seconds")
		case errors.As(err, &fe) && len(fe) > 0:
			writeEventError(w, r, http.StatusBadRequest, store.EINVALID, fe[0].Field, fe[0].Message)
		case errors.Is(err, events.ErrFull):
			w.Header().Set("Retry-After", "1")
			writeEventError(w, r, http.StatusTooManyRequests, store.ERATELIMITED, "", "too many events right now; retry in a second")
		case unavailable(err):
			w.Header().Set("Retry-After", RetryAfterSeconds(unavailableRetryAfter))
			writeEventError(w, r, http.StatusServiceUnavailable, codeUnavailable, "", unavailableMessage)
		default:
			log.ErrorContext(r.Context(), "recording events failed", "error", err.Error())
			writeEventError(w, r, http.StatusInternalServerError, store.EINTERNAL, "", "internal error")
		}
	})
}

// writeEventError writes POST /events' JSON error: {"error": {"code",
// "message", "field"}}.
func writeEventError(w http.ResponseWriter, r *http.Request, status int, code, field, message string) {
	setCode(r.Context(), code)
	e := map[string]string{"code": code, "message": message}
	if field != "" {
		e["field"] = field
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": e})
}
