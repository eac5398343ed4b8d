package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/partsmarket/gateway/internal/config"
	"github.com/partsmarket/gateway/internal/database"
	"github.com/partsmarket/gateway/store"
)

// rotationBatch is how many rows `keys rotate` re-encrypts per transaction.
const rotationBatch = 500

// rotateKeys runs `keys rotate`: it re-encrypts, under the first key of
// ENCRYPTION_KEYS, the personal data of every lead and report sealed under
// another one, printing the running counts. Running it again finishes an
// interrupted rotation and otherwise does nothing. Once it has succeeded the
// old keys may be removed from ENCRYPTION_KEYS.
func rotateKeys(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "rotate" {
		return errors.New("usage: gateway keys rotate")
	}
	db, err := database.Open(ctx, cfg.DatabaseURL, "gateway-worker", 1)
	if err != nil {
		return err
	}
	defer db.Close()
	st := store.New(db, store.WithKeyring(cfg.Keyring))
	if _, err := fmt.Fprintf(stdout, "re-encrypting under key %s\n", cfg.Keyring.CurrentKeyID()); err != nil {
		return err
	}
	c, err := st.RotateKeys(ctx, rotationBatch, func(c store.RotationCounts) {
		fmt.Fprintf(stdout, "  leads=%d reports=%d sellers=%d members=%d\n", c.Leads, c.Reports, c.Sellers, c.Members)
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "rotated: leads=%d reports=%d sellers=%d members=%d\n", c.Leads, c.Reports, c.Sellers, c.Members)
	return err
}

// retentionBatch is how many rows `retention run` changes per transaction.
const retentionBatch = 500

// runRetention runs `retention run`: it anonymises the leads and reports
// older than LEAD_RETENTION_DAYS and deletes the raw events older than
// EVENT_RETENTION_DAYS (see store.RunRetention), printing the counts. It is
// idempotent and meant to run daily (cron, a Kubernetes CronJob).
func runRetention(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "run" {
		return errors.New("usage: gateway retention run")
	}
	db, err := database.Open(ctx, cfg.DatabaseURL, "gateway-worker", 1)
	if err != nil {
		return err
	}
	defer db.Close()
	st := store.New(db, store.WithKeyring(cfg.Keyring))
	if _, err := fmt.Fprintf(stdout, "retention: leads and reports older than %d days, events older than %d days\n",
		cfg.LeadRetentionDays, cfg.EventRetentionDays); err != nil {
		return err
	}
	c, err := st.RunRetention(ctx, store.RetentionPolicy{LeadDays: cfg.LeadRetentionDays, EventDays: cfg.EventRetentionDays,
		BatchSize: retentionBatch}, func(c store.RetentionCounts) {
		fmt.Fprintf(stdout, "  leads=%d reports=%d events=%d\n", c.Leads, c.Reports, c.Events)
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "anonymised leads=%d reports=%d; deleted events=%d invitations=%d\n", c.Leads, c.Reports, c.Events, c.Invitations)
	return err
}
