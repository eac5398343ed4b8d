// Package notify delivers the mail outbox: a worker in the gateway process
// sends the seller an email for every PENDING row of lead_notifications
// that is due, and the invited person one for every queued invitation of
// seller_invitations (woken on store.InvitationDueChannel), and records each
// attempt.
//
// Rows are claimed with SELECT … FOR UPDATE SKIP LOCKED in a transaction that
// stays open while the batch is sent and in which the outcome is recorded,
// so any number of workers (gateway instances) share the outbox and never
// send the same lead at the same time. A failed attempt is retried with
// exponential backoff and jitter until MaxAttempts, then the row is FAILED.
// The worker wakes up on PostgreSQL notifications (new leads on
// store.LeadReceivedChannel, resends on store.NotificationDueChannel, through
// its own lib/pq Listener) and polls every PollInterval for retries and for
// anything a notification missed.
//
// Delivery is at least once: a crash between the mail server's acceptance
// and the commit sends that batch again after the restart.
package notify

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/partsmarket/gateway/internal/database"
	"github.com/partsmarket/gateway/store"
)

// Options tune a Worker; zero fields take the defaults below.
type Options struct {
	// PollInterval is how often the outbox is checked without a wake-up
	// (default 5s).
	PollInterval time.Duration
	// RetryBase is the wait after the first failed attempt; it doubles with
	// each further failure (default 30s).
	RetryBase time.Duration
	// RetryMax caps the wait between attempts (default 1h).
	RetryMax time.Duration
	// MaxAttempts is how many attempts are made before the notification is
	// FAILED (default 10).
	MaxAttempts int
	// BatchSize is how many notifications one transaction claims and sends
	// over one SMTP connection (default 50).
	BatchSize int
	// Concurrency is how many batches run at once (default 2); each holds a
	// database connection and an SMTP connection while it sends.
	Concurrency int
	// BatchTimeout bounds one batch, sending and recording (default 2m).
	BatchTimeout time.Duration
	// Log receives the worker's log lines (default slog.Default()). They
	// carry lead ids and error kinds, never personal data.
	Log *slog.Logger
	// Observer, when set, is told of every attempt's outcome (metrics).
	Observer Observer
}

// Outcomes of a delivery attempt, as an Observer is told them.
const (
	// OutcomeSent: the mail server accepted the notification.
	OutcomeSent = "sent"
	// OutcomeRetry: the attempt failed and will be retried.
	OutcomeRetry = "retry"
	// OutcomeFailed: the attempt failed and was the last: the
	// notification is FAILED.
	OutcomeFailed = "failed"
)

// Observer is told of each delivery attempt's outcome (one of the Outcome
// constants). Its method must be quick and safe for concurrent use.
type Observer interface {
	OutboxAttempt(outcome string)
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.PollInterval, 5*time.Second)
	def(&o.RetryBase, 30*time.Second)
	def(&o.RetryMax, time.Hour)
	def(&o.BatchTimeout, 2*time.Minute)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 50
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 2
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return o
}

// Worker delivers the notification outbox of one database.
type Worker struct {
	st     *store.Store
	dsn    string
	mailer Mailer
	opts   Options

	mu      sync.Mutex
	started bool
	cancel  context.CancelFunc
	done    sync.WaitGroup
}

// New returns a worker that reads the outbox through st, listens for
// wake-ups on a connection of its own to databaseURL (URL or key=value form)
// and sends with mailer. Call Start to run it and Close to stop it.
func New(st *store.Store, databaseURL string, mailer Mailer, opts Options) *Worker {
	return &Worker{st: st, dsn: databaseURL, mailer: mailer, opts: opts.withDefaults()}
}

// retryIn is the wait before attempt attempts+1 after attempts failed
// attempts: RetryBase doubled per failure after the first, capped at
// RetryMax, with ±20% jitter so that a backlog does not retry in lockstep.
func (o Options) retryIn(attempts int) time.Duration {
	o = o.withDefaults()
	d := o.RetryBase
	for i := 1; i < attempts && d < o.RetryMax; i++ {
		d *= 2
	}
	d = min(d, o.RetryMax)
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

// Start runs the worker in the background until Close. It returns an error
// when the listener's connection settings are unusable; a database that is
// down is retried in the background.
func (w *Worker) Start() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started {
		return errors.New("notify: worker already started")
	}
	dsn, err := database.WithApplicationName(w.dsn, "gateway-worker")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.started, w.cancel = true, cancel
	log := w.opts.Log
	listener := pq.NewListener(dsn, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventConnectionAttemptFailed, pq.ListenerEventDisconnected:
			log.Warn("notify: listener connection lost; polling until it is back", "event", int(ev))
		case pq.ListenerEventReconnected:
			log.Info("notify: listener reconnected")
		}
	})
	for _, ch := range []string{store.LeadReceivedChannel, store.NotificationDueChannel, store.InvitationDueChannel} {
		if err := listener.Listen(ch); err != nil && !errors.Is(err, pq.ErrChannelAlreadyOpen) {
			// The listener keeps reconnecting and re-listens on its own; the
			// poll covers the gap.
			log.Warn("notify: listen failed; polling only until the listener connects", "channel", ch)
		}
	}
	wakes := make([]chan struct{}, w.opts.Concurrency)
	for i := range wakes {
		wakes[i] = make(chan struct{}, 1)
	}
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		defer listener.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case <-listener.Notify:
				// A nil notification follows a reconnect: wake up all the same,
				// since notifications may have been missed meanwhile.
				for _, wake := range wakes {
					select {
					case wake <- struct{}{}:
					default:
					}
				}
			}
		}
	}()
	for i := range wakes {
		w.done.Add(1)
		go func() {
			defer w.done.Done()
			w.loop(ctx, wakes[i])
		}()
	}
	return nil
}

// Close stops the worker and waits for the batch in flight to be recorded.
func (w *Worker) Close() {
	w.mu.Lock()
	cancel := w.cancel
	w.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	w.done.Wait()
}

// loop drains the due outbox, then waits for a wake-up or the poll.
func (w *Worker) loop(ctx context.Context, wake <-chan struct{}) {
	poll := time.NewTicker(w.opts.PollInterval)
	defer poll.Stop()
	for {
		for ctx.Err() == nil {
			n, err := w.RunOnce(ctx)
			if err != nil {
				w.opts.Log.Error("notify: outbox batch failed", "error_code", store.ErrorCode(err), "error", errorKind(err))
				break
			}
			if n < w.opts.BatchSize {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-poll.C:
		}
	}
}

// RunOnce claims, sends and records one batch of due lead notifications
// and one of due invitation mails, and returns how many it handled. A batch that has begun is finished even when
// ctx ends meanwhile (within BatchTimeout), so that what was sent is recorded.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.opts.BatchTimeout)
	defer cancel()
	var outcomes []store.NotificationOutcome
	n, err := w.st.DeliverNotifications(bctx, w.opts.BatchSize, func(ctx context.Context, jobs []*store.NotificationJob) []store.NotificationOutcome {
		outcomes = w.deliver(ctx, jobs)
		return outcomes
	})
	if err != nil {
		return n, err
	}
	w.observe(outcomes) // once recorded: what the outbox's backlog shows agrees
	m, err := w.st.DeliverInvitationMails(bctx, w.opts.BatchSize, w.deliverInvitations)
	return n + m, err
}

// ErrNoEmailContact is the last_error of a notification whose seller has no
// EMAIL contact; such a notification is FAILED at once (an admin can resend
// it after the seller adds one).
const ErrNoEmailContact = "seller has no email contact"

// ErrMuted is the last_error of a notification whose seller muted its lead
// mail (notificationsMuted); such a notification is FAILED at once, without
// mail, and the lead is in the seller's inbox as always.
const ErrMuted = "seller muted lead notifications"

// deliver sends one claimed batch and decides each row's outcome.
func (w *Worker) deliver(ctx context.Context, jobs []*store.NotificationJob) []store.NotificationOutcome {
	out := make([]store.NotificationOutcome, len(jobs))
	msgs := make([]*Message, 0, len(jobs))
	index := make([]int, 0, len(jobs))
	for i, j := range jobs {
		if j.Muted {
			out[i] = store.NotificationOutcome{Error: ErrMuted}
			continue
		}
		if len(j.Recipients) == 0 {
			out[i] = store.NotificationOutcome{Error: ErrNoEmailContact}
			w.opts.Log.Warn("notify: lead notification failed", "lead_id", j.Lead.ID, "error", ErrNoEmailContact)
			continue
		}
		msgs = append(msgs, Compose(j))
		index = append(index, i)
	}
	if len(msgs) == 0 {
		return out
	}
	for k, o := range w.send(ctx, msgs, func(k int) int { return jobs[index[k]].Attempts }) {
		i := index[k]
		out[i] = o
		if !o.Sent {
			w.opts.Log.Warn("notify: lead notification not delivered", "lead_id", jobs[i].Lead.ID,
				"attempts", jobs[i].Attempts+1, "error", o.Error, "gave_up", o.RetryIn <= 0)
		}
	}
	return out
}

// deliverInvitations sends one claimed batch of invitation mails and
// decides each one's outcome.
func (w *Worker) deliverInvitations(ctx context.Context, jobs []*store.InvitationMailJob) []store.NotificationOutcome {
	msgs := make([]*Message, len(jobs))
	for i, j := range jobs {
		msgs[i] = ComposeInvitation(j)
	}
	out := w.send(ctx, msgs, func(i int) int { return jobs[i].Attempts })
	for i, o := range out {
		if !o.Sent {
			w.opts.Log.Warn("notify: invitation mail not delivered", "invitation_id", jobs[i].InvitationID,
				"attempts", jobs[i].Attempts+1, "error", o.Error, "gave_up", o.RetryIn <= 0)
		}
	}
	return out
}

// send sends msgs over one connection and returns each one's outcome;
// attemptsOf(i) is how many attempts message i had before.
func (w *Worker) send(ctx context.Context, msgs []*Message, attemptsOf func(i int) int) []store.NotificationOutcome {
	out := make([]store.NotificationOutcome, len(msgs))
	for i, err := range w.mailer.Send(ctx, msgs) {
		if err == nil {
			out[i] = store.NotificationOutcome{Sent: true}
			continue
		}
		attempts := attemptsOf(i) + 1
		out[i] = store.NotificationOutcome{Error: Describe(err)}
		if attempts < w.opts.MaxAttempts && !permanent(err) {
			out[i].RetryIn = w.opts.retryIn(attempts)
		}
	}
	return out
}

// observe tells the observer, if any, of a recorded batch's outcomes.
func (w *Worker) observe(out []store.NotificationOutcome) {
	if w.opts.Observer == nil {
		return
	}
	for _, o := range out {
		switch {
		case o.Sent:
			w.opts.Observer.OutboxAttempt(OutcomeSent)
		case o.RetryIn > 0:
			w.opts.Observer.OutboxAttempt(OutcomeRetry)
		default:
			w.opts.Observer.OutboxAttempt(OutcomeFailed)
		}
	}
}

// errorKind is a log-safe description of a database error: the PostgreSQL
// error code, never a statement's values.
func errorKind(err error) string {
	var pqErr *pq.Error
	switch {
	case errors.As(err, &pqErr):
		return "postgres " + string(pqErr.Code)
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "database error"
}
