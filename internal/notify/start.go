package notify

import (
	"context"
	"log/slog"

	"github.com/jmoiron/sqlx"

	"github.com/partsmarket/gateway/internal/config"
	"github.com/partsmarket/gateway/internal/database"
	"github.com/partsmarket/gateway/store"
)

// Service is a running outbox worker with its own connection pool.
type Service struct {
	*Worker
	db *sqlx.DB
}

// DB returns the worker's pool (for its metrics).
func (s *Service) DB() *sqlx.DB { return s.db }

// Close stops the worker, then closes its pool. A nil Service does nothing.
func (s *Service) Close() {
	if s == nil {
		return
	}
	s.Worker.Close()
	s.db.Close()
}

// FromConfig starts the outbox worker that cfg asks for. With SMTP_URL unset
// it returns nil and no error: no worker runs and notifications stay
// PENDING. The worker gets a pool of its own (application_name
// gateway-worker, one connection per concurrent batch), because a batch holds
// its connection while it talks to the mail server and must not starve the
// other background work. obs (nil: none) is told of every attempt's
// outcome. Errors never quote SMTP_URL or DATABASE_URL.
func FromConfig(ctx context.Context, cfg config.Config, log *slog.Logger, obs Observer) (*Service, error) {
	if cfg.SMTPURL == "" {
		return nil, nil
	}
	mailer, err := NewSMTP(cfg.SMTPURL, cfg.MailFrom)
	if err != nil {
		return nil, err
	}
	opts := Options{
		PollInterval: cfg.NotifyPollInterval,
		RetryBase:    cfg.NotifyRetryBase,
		RetryMax:     cfg.NotifyRetryMax,
		MaxAttempts:  cfg.NotifyMaxAttempts,
		Log:          log,
		Observer:     obs,
	}.withDefaults()
	db, err := database.Open(ctx, cfg.DatabaseURL, "gateway-worker", opts.Concurrency)
	if err != nil {
		return nil, err
	}
	w := New(store.New(db, store.WithKeyring(cfg.Keyring)), cfg.DatabaseURL, mailer, opts)
	if err := w.Start(); err != nil {
		db.Close()
		return nil, err
	}
	return &Service{Worker: w, db: db}, nil
}
