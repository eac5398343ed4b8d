// Package replica watches how far the read replica that serves analysts
// (DATABASE_READ_URL) is behind the primary, so that analysts are told the
// replica is behind (SERVICE_UNAVAILABLE) instead of being shown stale
// figures as if they were current.
package replica

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
)

// checkInterval is how often the lag is measured.
const checkInterval = time.Second

// lagQuery measures the replica's lag in seconds: 0 on a primary and on a
// standby that has replayed everything it received (an idle primary sends
// nothing, so the age of the last replayed commit says nothing then);
// otherwise the age of the last transaction it replayed.
const lagQuery = `SELECT CASE
	WHEN NOT pg_is_in_recovery() THEN 0
	WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
	ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)
END::float8`

// Monitor measures a replica's lag in the background. Its zero value is
// not usable; a nil *Monitor is never behind.
type Monitor struct {
	db     *sqlx.DB
	maxLag time.Duration
	log    *slog.Logger
	lag    atomic.Int64 // nanoseconds, the last measure

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// New returns a Monitor of the replica behind db that counts it behind past
// maxLag; run it with Start and end it with Close.
func New(db *sqlx.DB, maxLag time.Duration, log *slog.Logger) *Monitor {
	return &Monitor{db: db, maxLag: maxLag, log: log, stop: make(chan struct{}), done: make(chan struct{})}
}

// Start measures the lag now and then every checkInterval until Close. A
// measure that fails (the replica is down: its queries fail and say so
// themselves) leaves the last one in place.
func (m *Monitor) Start() {
	go func() {
		defer close(m.done)
		t := time.NewTicker(checkInterval)
		defer t.Stop()
		for {
			m.measure()
			select {
			case <-t.C:
			case <-m.stop:
				return
			}
		}
	}()
}

// measure takes one measure of the lag.
func (m *Monitor) measure() {
	ctx, cancel := context.WithTimeout(context.Background(), checkInterval)
	defer cancel()
	var seconds float64
	if err := m.db.GetContext(ctx, &seconds, lagQuery); err != nil {
		m.log.Debug("replica lag not measured", "error", err.Error())
		return
	}
	lag := time.Duration(seconds * float64(time.Second))
	if prev := time.Duration(m.lag.Swap(int64(lag))); (prev > m.maxLag) != (lag > m.maxLag) {
		m.log.Warn("read replica lag crossed the limit", "lag_seconds", seconds, "max_lag_seconds", m.maxLag.Seconds())
	}
}

// Behind reports whether the last measure found the replica more than the
// maximum lag behind.
func (m *Monitor) Behind() bool {
	return m != nil && time.Duration(m.lag.Load()) > m.maxLag
}

// Close stops the measures.
func (m *Monitor) Close() {
	m.closeOnce.Do(func() { close(m.stop) })
	<-m.done
}
