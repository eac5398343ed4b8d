package faults

import (
	"bufio"
	"bytes"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// waitFor polls cond until it holds; the test fails if it never does
// within a bound far above what a healthy run needs (the bound only keeps
// a broken gateway from hanging the suite).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 3000; i++ {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s", what)
}

// outcomes tallies the answers a stream of requests got.
type outcomes struct {
	mu          sync.Mutex
	acked       []string // what the gateway acknowledged: lead ids, event session ids
	unavailable int      // 503 SERVICE_UNAVAILABLE with Retry-After
	dropped     int      // no answer at all (the connection closed: only while stopping)
	others      []string // anything else: each is a failure
}

func (o *outcomes) ack(id string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.acked = append(o.acked, id)
}

func (o *outcomes) count() (acked, unavailable int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.acked), o.unavailable
}

// note tallies an answer that acknowledged nothing.
func (o *outcomes) note(r response, err error, dropOK bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case err != nil && dropOK:
		o.dropped++
	case err != nil:
		o.others = append(o.others, "transport: "+err.Error())
	case r.retryable():
		o.unavailable++
	default:
		o.others = append(o.others, fmt.Sprintf("HTTP %d %s", r.status, r.raw))
	}
}

// check fails t when any answer was neither an acknowledgement nor a
// retryable refusal, or when an acknowledged row is missing from table.
func (o *outcomes) check(t *testing.T, db *sql.DB, what, table, column string) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.others) > 0 {
		t.Errorf("%s: %d answers were neither acknowledged nor SERVICE_UNAVAILABLE, e.g. %q", what, len(o.others), o.others[0])
	}
	if got := countStored(t, db, table, column, o.acked); got != len(o.acked) {
		t.Errorf("%s: %d acknowledged, %d of them stored", what, len(o.acked), got)
	}
	t.Logf("%s: %d acknowledged (all stored), %d SERVICE_UNAVAILABLE, %d without an answer", what, len(o.acked), o.unavailable, o.dropped)
}

// leadStream submits leads from workers goroutines until stop is closed
// (or, with untilDropped, until the gateway stops answering).
func leadStream(g *gateway, f fixture, workers int, seq *atomic.Int64, o *outcomes, stop chan struct{}, untilDropped bool, wg *sync.WaitGroup) {
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, err := g.post("", submitLead, leadInput(f, int(seq.Add(1))))
				if id := r.leadID(); err == nil && id != "" {
					o.ack(id)
					continue
				}
				o.note(r, err, untilDropped)
				if err != nil && untilDropped {
					return
				}
			}
		}()
	}
}

// TestDatabaseRestartDuringLeads restarts PostgreSQL twice (a fast
// shutdown, then a crash) under a stream of submitLead: every lead answered
// with an id is stored, every other caller is told SERVICE_UNAVAILABLE with
// Retry-After, /readyz reports each outage, and the same gateway process
// takes leads again once the database is back.
func TestDatabaseRestartDuringLeads(t *testing.T) {
	name, db := newDatabase(t)
	f := newFixture(t, db)
	g := startGateway(t, name, nil)

	var o outcomes
	var seq atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var once sync.Once
	halt := func() { once.Do(func() { close(stop) }); wg.Wait() }
	leadStream(g, f, 8, &seq, &o, stop, false, &wg)
	defer halt()

	for _, mode := range []string{"fast", "immediate"} {
		before, _ := o.count()
		waitFor(t, "leads acknowledged before the "+mode+" stop", func() bool { n, _ := o.count(); return n >= before+20 })
		_, unavailableBefore := o.count()
		if err := primary.stop(mode); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "/readyz to report the outage", func() bool { return g.get("/readyz") == http.StatusServiceUnavailable })
		waitFor(t, "a lead answered SERVICE_UNAVAILABLE", func() bool { _, u := o.count(); return u > unavailableBefore })
		if err := primary.start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "/readyz to be ready again", func() bool { return g.get("/readyz") == http.StatusOK })
		after, _ := o.count()
		waitFor(t, "leads acknowledged after the restart", func() bool { n, _ := o.count(); return n >= after+20 })
	}
	halt()
	o.check(t, db, "leads", "leads", "id")
	select {
	case <-g.done:
		t.Fatalf("the gateway exited: %v", g.err)
	default:
	}
}

// TestSigtermDuringLeadsAndEvents stops the gateway with SIGTERM in the
// middle of a burst of leads and events (with an event flush interval far
// longer than the test, so the events are still in the buffer): it exits
// cleanly, no caller gets an internal error, and every lead and event it
// acknowledged is in the database afterwards.
func TestSigtermDuringLeadsAndEvents(t *testing.T) {
	t.Parallel() // beside the other tests that leave the primary running, after the restart test
	name, db := newDatabase(t)
	f := newFixture(t, db)
	g := startGateway(t, name, map[string]string{"EVENT_FLUSH_INTERVAL": "1h"})

	var leads, evs outcomes
	var seq atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	leadStream(g, f, 4, &seq, &leads, stop, true, &wg)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				session := "session-" + strconv.FormatInt(seq.Add(1), 10)
				body := fmt.Sprintf(`{"type":"LISTING_VIEW","listingId":%q,"sessionId":%q}`, f.listingID, session)
				req, _ := http.NewRequest(http.MethodPost, g.url+"/events", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				r, err := do(req)
				if err == nil && r.status == http.StatusNoContent {
					evs.ack(session)
					continue
				}
				evs.note(r, err, true)
				if err != nil {
					return
				}
			}
		}()
	}
	waitFor(t, "leads and events acknowledged", func() bool {
		l, _ := leads.count()
		e, _ := evs.count()
		return l >= 50 && e >= 50
	})
	if err := g.signal(syscall.SIGTERM); err != nil {
		t.Errorf("gateway exit after SIGTERM: %v, want success", err)
	}
	wg.Wait() // every worker has met the closed port by now
	close(stop)
	leads.check(t, db, "leads", "leads", "id")
	evs.check(t, db, "events", "events", "session_id")
}

// TestReplicaBehindOrDown holds back the read replica (DATABASE_READ_URL, a
// streaming standby of the primary), then stops it: either way an
// analyst's query answers SERVICE_UNAVAILABLE with Retry-After, while the
// public's listings and a seller's leads, served by the primary, are
// unaffected; the analyst is served again once the replica has caught up
// or is back.
func TestReplicaBehindOrDown(t *testing.T) {
	t.Parallel() // beside the other tests that leave the primary running, after the restart test
	name, db := newDatabase(t)
	f := newFixture(t, db)
	replica, err := newCluster("replica")
	if err != nil {
		t.Fatal(err)
	}
	if err := pg("pg_basebackup", "-D", replica.dir, "-R", "-X", "stream", "-c", "fast", "-h", "127.0.0.1",
		"-p", strconv.Itoa(primary.port), "-U", "postgres"); err != nil {
		t.Fatal(err)
	}
	if err := replica.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = replica.stop("immediate") })
	env := map[string]string{"DATABASE_READ_URL": replica.url(name), "REPLICA_MAX_LAG": "1s",
		"RESPONSE_CACHE_TTL": "0", "SEARCH_CACHE_TTL": "0"}
	g := startGateway(t, name, env)
	analyst := token(t, "--role", "analyst")
	seller := token(t, "--role", "seller", "--seller-id", f.sellerID)

	const analystQuery = `{ leads(first: 1) { totalCount } }`
	served := func(r response, err error) bool { return err == nil && r.status == http.StatusOK && r.code == "" }
	othersServed := func(g *gateway, when string) {
		t.Helper()
		r, err := g.post("", `{ listings(first: 5) { nodes { id } } }`, nil)
		if !served(r, err) || !strings.Contains(r.raw, f.listingID) {
			t.Errorf("anonymous listings %s: %v %d %s, want the listing", when, err, r.status, r.raw)
		}
		if r, err := g.post(seller, `{ leads(first: 5) { totalCount } }`, nil); !served(r, err) {
			t.Errorf("seller's leads %s: %v %d %s", when, err, r.status, r.raw)
		}
	}
	waitFor(t, "the analyst served by the replica", func() bool { return served(g.post(analyst, analystQuery, nil)) })

	// Behind: replay paused while the primary keeps writing.
	if err := replica.exec(name, `SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the analyst refused while the replica is behind", func() bool {
		if _, err := db.Exec(`UPDATE listings SET updated_at = now() WHERE id = $1`, f.listingID); err != nil {
			t.Fatal(err)
		}
		r, err := g.post(analyst, analystQuery, nil)
		return err == nil && r.retryable() && strings.Contains(r.raw, "behind")
	})
	othersServed(g, "with the replica behind")
	if err := replica.exec(name, `SELECT pg_wal_replay_resume()`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the analyst served once the replica caught up", func() bool { return served(g.post(analyst, analystQuery, nil)) })

	// Down.
	if err := replica.stop("fast"); err != nil {
		t.Fatal(err)
	}
	if r, err := g.post(analyst, analystQuery, nil); err != nil || !r.retryable() {
		t.Errorf("analyst with the replica down: %v HTTP %d Retry-After %q %s, want 503 SERVICE_UNAVAILABLE with Retry-After",
			err, r.status, r.retryAfter, r.raw)
	}
	othersServed(g, "with the replica down")

	// A gateway that starts while the replica is down serves everyone
	// else, and tells analysts to come back.
	late := startGateway(t, name, env)
	if r, err := late.post(analyst, analystQuery, nil); err != nil || !r.retryable() {
		t.Errorf("analyst of a gateway started with the replica down: %v HTTP %d %s, want 503 SERVICE_UNAVAILABLE",
			err, r.status, r.raw)
	}
	othersServed(late, "by a gateway started with the replica down")
	if err := replica.start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the analyst served again", func() bool { return served(g.post(analyst, analystQuery, nil)) })
}

// slowClient dials the gateway, sends prefix, then one drip every 50 ms
// until the server closes the connection or answers; closed reports
// whether it did (rather than the client giving up after maxDrips).
func slowClient(t *testing.T, addr, prefix, drip string, maxDrips int) (closed <-chan bool) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write([]byte(prefix)); err != nil {
		t.Fatal(err)
	}
	out := make(chan bool, 1)
	ended := make(chan struct{})
	go func() {
		var b [1]byte
		_, _ = conn.Read(b[:]) // returns when the server answers or closes
		close(ended)
	}()
	go func() {
		defer conn.Close()
		for i := 0; i < maxDrips; i++ {
			select {
			case <-ended:
				out <- true
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := conn.Write([]byte(drip)); err != nil {
				out <- true
				return
			}
		}
		out <- false
	}()
	return out
}

// TestSlowloris holds many connections that trickle their headers or
// their body: a normal request is served meanwhile, and the server closes
// every slow connection (headers: READ_HEADER_TIMEOUT; body: the request's
// deadline) instead of keeping it for as long as the client likes.
func TestSlowloris(t *testing.T) {
	t.Parallel() // beside the other tests that leave the primary running, after the restart test
	name, _ := newDatabase(t)
	g := startGateway(t, name, map[string]string{"READ_HEADER_TIMEOUT": "1s", "REQUEST_TIMEOUT": "1s"})
	addr := strings.TrimPrefix(g.url, "http://")
	const maxDrips = 2400 // two minutes: far beyond either timeout
	var slow []<-chan bool
	for i := range 100 {
		slow = append(slow, slowClient(t, addr, "POST /graphql HTTP/1.1\r\nHost: x\r\n", fmt.Sprintf("X-Pad-%d: y\r\n", i), maxDrips))
	}
	for range 20 {
		slow = append(slow, slowClient(t, addr, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
			"Content-Length: 1000000\r\n\r\n{", " ", maxDrips))
	}
	if r, err := g.post("", `{ listings(first: 1) { nodes { id } } }`, nil); err != nil || r.status != http.StatusOK || r.code != "" {
		t.Errorf("a normal request among the slow connections: %v %d %s", err, r.status, r.raw)
	}
	closed := 0
	for _, c := range slow {
		if <-c {
			closed++
		}
	}
	if closed != len(slow) {
		t.Errorf("the server closed %d of %d slow connections, want all", closed, len(slow))
	}
}

// TestMaxInFlightSheds sends MAX_IN_FLIGHT=2 + 1 requests and holds them
// open (their bodies half sent): one is answered at once, though its body
// never came, with 503 SERVICE_UNAVAILABLE and Retry-After, and so is any
// other request while the two are held; /healthz and /readyz still answer;
// once the two finish (and are served) requests are served again.
func TestMaxInFlightSheds(t *testing.T) {
	t.Parallel() // beside the other tests that leave the primary running, after the restart test
	name, _ := newDatabase(t)
	g := startGateway(t, name, map[string]string{"MAX_IN_FLIGHT": "2", "REQUEST_TIMEOUT": "1m"})
	addr := strings.TrimPrefix(g.url, "http://")
	body := `{"query":"{ __typename }"}`
	type answer struct {
		conn int
		r    response
		err  error
	}
	answers := make(chan answer, 3)
	var held []net.Conn
	for i := range 3 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			len(body), body[:10])
		held = append(held, conn)
		go func() {
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				answers <- answer{conn: i, err: err}
				return
			}
			var b bytes.Buffer
			_, err = b.ReadFrom(resp.Body)
			resp.Body.Close()
			r := response{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), raw: b.String()}
			if strings.Contains(r.raw, `"code":"SERVICE_UNAVAILABLE"`) {
				r.code = "SERVICE_UNAVAILABLE"
			}
			answers <- answer{conn: i, r: r, err: err}
		}()
	}
	shed := <-answers
	if shed.err != nil || !shed.r.retryable() {
		t.Fatalf("first answer of three held requests: %v HTTP %d Retry-After %q %s, want SERVICE_UNAVAILABLE with Retry-After",
			shed.err, shed.r.status, shed.r.retryAfter, shed.r.raw)
	}
	if r, err := g.post("", `{ __typename }`, nil); err != nil || !r.retryable() {
		t.Errorf("a request while two are held: %v HTTP %d Retry-After %q %s, want SERVICE_UNAVAILABLE with Retry-After",
			err, r.status, r.retryAfter, r.raw)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if got := g.get(path); got != http.StatusOK {
			t.Errorf("GET %s while full: %d, want 200", path, got)
		}
	}
	for i, conn := range held {
		if i == shed.conn {
			continue
		}
		if _, err := conn.Write([]byte(body[10:])); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		a := <-answers
		if a.err != nil || a.r.status != http.StatusOK || !strings.Contains(a.r.raw, "__typename") {
			t.Errorf("held request: %v %d %s, want it served", a.err, a.r.status, a.r.raw)
		}
	}
	if r, err := g.post("", `{ __typename }`, nil); err != nil || r.status != http.StatusOK {
		t.Errorf("once the held requests were served: %v %d %s, want 200", err, r.status, r.raw)
	}
}

// TestRequestDeadline blocks a seller's leads in the database (another
// session holds a lock on the table) past REQUEST_TIMEOUT: the request
// answers SERVICE_UNAVAILABLE with Retry-After instead of waiting, and is
// served once the lock is gone.
func TestRequestDeadline(t *testing.T) {
	t.Parallel() // beside the other tests that leave the primary running, after the restart test
	name, db := newDatabase(t)
	f := newFixture(t, db)
	g := startGateway(t, name, map[string]string{"REQUEST_TIMEOUT": "1s"})
	seller := token(t, "--role", "seller", "--seller-id", f.sellerID)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`LOCK TABLE leads IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	const q = `{ leads(first: 5) { totalCount } }`
	if r, err := g.post(seller, q, nil); err != nil || !r.retryable() {
		t.Errorf("leads behind a lock: %v HTTP %d Retry-After %q %s, want 503 SERVICE_UNAVAILABLE with Retry-After",
			err, r.status, r.retryAfter, r.raw)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if r, err := g.post(seller, q, nil); err != nil || r.status != http.StatusOK || r.code != "" {
		t.Errorf("leads after the lock: %v %d %s", err, r.status, r.raw)
	}
}
