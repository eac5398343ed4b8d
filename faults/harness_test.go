package faults

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lib/pq"
)

// The suite's shared state, set up once by TestMain.
var (
	// work is the suite's temporary directory: clusters, binary, media.
	work string
	// gatewayBin is the gateway binary built from this checkout.
	gatewayBin string
	// primary is the private cluster the tests restart.
	primary *cluster
	// templateDB is the migrated database each test's database copies.
	templateDB = "faults_template"
	dbSeq      atomic.Int64
)

func TestMain(m *testing.M) {
	code := 1
	if err := setUp(); err != nil {
		fmt.Fprintf(os.Stderr, "faults: setting up: %v\n", err)
	} else {
		code = m.Run()
	}
	tearDown()
	os.Exit(code)
}

// setUp builds the gateway, creates and starts the private primary and
// migrates the template database.
func setUp() error {
	var err error
	if work, err = os.MkdirTemp("", "gateway-faults-"); err != nil {
		return err
	}
	// The postgres user runs the clusters under it when the suite runs as
	// root.
	if err := os.Chmod(work, 0o755); err != nil {
		return err
	}
	gatewayBin = filepath.Join(work, "gateway")
	args := []string{"build", "-o", gatewayBin}
	if raceBuild {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "github.com/partsmarket/gateway")...)
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	if primary, err = newCluster("primary"); err != nil {
		return err
	}
	if err := primary.initdb(); err != nil {
		return err
	}
	if err := primary.start(); err != nil {
		return err
	}
	if err := primary.exec("postgres", `CREATE DATABASE `+templateDB); err != nil {
		return err
	}
	migrate := exec.Command(gatewayBin, "migrate", "up")
	migrate.Env = append(os.Environ(), "DATABASE_URL="+primary.url(templateDB))
	if out, err := migrate.CombinedOutput(); err != nil {
		return fmt.Errorf("gateway migrate up: %v\n%s", err, out)
	}
	return nil
}

// tearDown stops every cluster and removes the suite's directory.
func tearDown() {
	clustersMu.Lock()
	defer clustersMu.Unlock()
	for _, c := range clusters {
		_ = c.stop("immediate")
	}
	if work != "" {
		_ = os.RemoveAll(work)
	}
}

var (
	clustersMu sync.Mutex
	clusters   []*cluster
)

// cluster is a private PostgreSQL cluster on a loopback port.
type cluster struct {
	name, dir, log string
	port           int
}

// pgBin returns the directory of initdb and pg_ctl: PostgreSQL 15's, else
// the newest installed.
func pgBin() (string, error) {
	if _, err := os.Stat("/usr/lib/postgresql/15/bin/initdb"); err == nil {
		return "/usr/lib/postgresql/15/bin", nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(dirs) == 0 {
		return "", errors.New("no PostgreSQL server binaries under /usr/lib/postgresql (install postgresql)")
	}
	sort.Strings(dirs)
	return filepath.Dir(dirs[len(dirs)-1]), nil
}

// newCluster reserves a directory and a free port for a cluster.
func newCluster(name string) (*cluster, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	c := &cluster{name: name, dir: filepath.Join(work, name), log: filepath.Join(work, name+".log"), port: port}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(c.log, nil, 0o644); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, errors.New("running as root needs a postgres user to own the clusters")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{c.dir, c.log} {
			if err := os.Chown(p, uid, gid); err != nil {
				return nil, err
			}
		}
	}
	clustersMu.Lock()
	clusters = append(clusters, c)
	clustersMu.Unlock()
	return c, nil
}

// pg runs a PostgreSQL program as the cluster's owner: the postgres user
// when the suite runs as root (PostgreSQL refuses root).
func pg(program string, args ...string) error {
	bin, err := pgBin()
	if err != nil {
		return err
	}
	argv := append([]string{filepath.Join(bin, program)}, args...)
	if os.Geteuid() == 0 {
		argv = append([]string{"runuser", "-u", "postgres", "--"}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = "/"
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", program, err, out)
	}
	return nil
}

func (c *cluster) initdb() error {
	return pg("initdb", "-D", c.dir, "--auth=trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync")
}

// start starts the cluster and waits until it accepts connections.
func (c *cluster) start() error {
	opts := fmt.Sprintf("-c port=%d -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "+
		"-c fsync=off -c full_page_writes=off -c max_connections=200", c.port)
	if err := pg("pg_ctl", "-D", c.dir, "-l", c.log, "-w", "-t", "60", "-o", opts, "start"); err != nil {
		log, _ := os.ReadFile(c.log)
		return fmt.Errorf("%w\n%s", err, lastLines(string(log), 20))
	}
	return nil
}

// stop stops the cluster: mode fast (clients get admin_shutdown) or
// immediate (its processes are killed, as in a crash).
func (c *cluster) stop(mode string) error {
	if _, err := os.Stat(filepath.Join(c.dir, "postmaster.pid")); err != nil {
		return nil // not running
	}
	return pg("pg_ctl", "-D", c.dir, "-m", mode, "-w", "-t", "60", "stop")
}

// url returns the URL of database db on the cluster.
func (c *cluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// exec runs SQL statements on database db of the cluster.
func (c *cluster) exec(db string, statements ...string) error {
	conn, err := sql.Open("postgres", c.url(db))
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, s := range statements {
		if _, err := conn.Exec(s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// newDatabase creates a fresh copy of the migrated template on the primary
// and returns its name and a connection to it, closed at the end of t.
func newDatabase(t *testing.T) (string, *sql.DB) {
	t.Helper()
	name := fmt.Sprintf("faults_%d", dbSeq.Add(1))
	if err := primary.exec("postgres", `CREATE DATABASE `+name+` TEMPLATE `+templateDB); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("postgres", primary.url(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return name, db
}

// fixture is a public listing of an active seller.
type fixture struct{ sellerID, listingID string }

// newFixture stores an active seller with one active listing.
func newFixture(t *testing.T, db *sql.DB) fixture {
	t.Helper()
	var f fixture
	if err := db.QueryRow(`INSERT INTO sellers (slug, company_name, status) VALUES ('faults-seller', 'Faults Hydraulics', 'ACTIVE')
		RETURNING id`).Scan(&f.sellerID); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`INSERT INTO listings (seller_id, title, condition, status) VALUES ($1, 'Hydraulic pump', 'NEW', 'ACTIVE')
		RETURNING id`, f.sellerID).Scan(&f.listingID); err != nil {
		t.Fatal(err)
	}
	return f
}

// gateway is a running gateway process.
type gateway struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	logs *lockedBuffer
	done chan struct{}
	err  error // the process's exit, once done is closed
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startGateway runs `gateway serve` on database db of the primary with
// generous abuse limits (the suite's traffic comes from one IP) and env's
// settings, and waits until it answers /healthz. It is killed at the end
// of t if still running; its log is shown when t failed.
func startGateway(t *testing.T, db string, env map[string]string) *gateway {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"ENV":                                  "development",
		"DATABASE_URL":                         primary.url(db),
		"PORT":                                 strconv.Itoa(port),
		"METRICS_ADDR":                         "127.0.0.1:0",
		"MEDIA_DIR":                            filepath.Join(work, "media"),
		"RATE_LIMIT_LEADS_PER_IP_PER_HOUR":     "1000000",
		"RATE_LIMIT_LEADS_PER_EMAIL_PER_DAY":   "1000000",
		"RATE_LIMIT_POINTS_PER_MINUTE":         "100000000",
		"RATE_LIMIT_EVENTS_PER_IP_PER_MINUTE":  "100000000",
		"RATE_LIMIT_REPORTS_PER_IP_PER_HOUR":   "1000000",
		"RATE_LIMIT_REPORTS_PER_EMAIL_PER_DAY": "1000000",
	}
	for k, v := range env {
		vars[k] = v
	}
	g := &gateway{t: t, url: "http://127.0.0.1:" + strconv.Itoa(port), logs: &lockedBuffer{}, done: make(chan struct{})}
	g.cmd = exec.Command(gatewayBin, "serve")
	g.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work}
	for k, v := range vars {
		g.cmd.Env = append(g.cmd.Env, k+"="+v)
	}
	g.cmd.Stdout, g.cmd.Stderr = g.logs, g.logs
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { g.err = g.cmd.Wait(); close(g.done) }()
	t.Cleanup(func() {
		select {
		case <-g.done:
		default:
			_ = g.cmd.Process.Kill()
			<-g.done
		}
		if t.Failed() {
			var kept []string // the lines of requests served with 200 say little
			for _, l := range strings.Split(g.logs.String(), "\n") {
				if !strings.Contains(l, `"status":200,`) {
					kept = append(kept, l)
				}
			}
			t.Logf("gateway log (last lines but 200s):\n%s", lastLines(strings.Join(kept, "\n"), 60))
		}
	})
	for i := 0; ; i++ {
		select {
		case <-g.done:
			t.Fatalf("gateway exited while starting: %v\n%s", g.err, lastLines(g.logs.String(), 20))
		default:
		}
		if resp, err := http.Get(g.url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return g
			}
		}
		if i == 600 {
			t.Fatalf("gateway did not answer /healthz\n%s", lastLines(g.logs.String(), 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// token mints a token with the gateway binary (the development secret).
func token(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(gatewayBin, append([]string{"token"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "ENV=development"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gateway token: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// signal sends sig to the gateway and waits for it to exit, returning
// its exit error.
func (g *gateway) signal(sig os.Signal) error {
	g.t.Helper()
	if err := g.cmd.Process.Signal(sig); err != nil {
		g.t.Fatal(err)
	}
	<-g.done
	return g.err
}

// response is one HTTP answer of the gateway, decoded.
type response struct {
	status     int
	retryAfter string
	code       string // the first error's extensions.code
	data       map[string]any
	raw        string
}

// client is the suite's HTTP client; Timeout only keeps a broken gateway
// from hanging the suite.
var client = &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// post sends a GraphQL request; err is a transport error (no answer).
func (g *gateway) post(bearer, query string, vars map[string]any) (response, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, g.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return do(req)
}

// do sends req and decodes a GraphQL-shaped answer.
func do(req *http.Request) (response, error) {
	resp, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	r := response{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), raw: string(raw)}
	var body struct {
		Data   map[string]any `json:"data"`
		Errors []struct {
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if json.Unmarshal(raw, &body) == nil {
		r.data = body.Data
		if len(body.Errors) > 0 {
			r.code, _ = body.Errors[0].Extensions["code"].(string)
		}
	}
	return r, nil
}

// get fetches path and returns its status; 0 for a transport error.
func (g *gateway) get(path string) int {
	resp, err := client.Get(g.url + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// retryable reports whether r is the gateway's answer to a request it
// cannot serve for now: 503, Retry-After, SERVICE_UNAVAILABLE.
func (r response) retryable() bool {
	return r.status == http.StatusServiceUnavailable && r.retryAfter != "" && r.code == "SERVICE_UNAVAILABLE"
}

const submitLead = `mutation($in: SubmitLeadInput!) { submitLead(input: $in) { leadId } }`

// leadInput is a lead about the fixture's listing from buyer n.
func leadInput(f fixture, n int) map[string]any {
	return map[string]any{"in": map[string]any{
		"listingId": f.listingID, "buyerName": "Buyer " + strconv.Itoa(n),
		"email": fmt.Sprintf("buyer%d@faults.example", n), "message": "Is the pump available?", "captchaToken": "ok",
	}}
}

// leadID returns the id a submitLead answer acknowledged ("" for none).
func (r response) leadID() string {
	if r.status != http.StatusOK || r.code != "" {
		return ""
	}
	sl, _ := r.data["submitLead"].(map[string]any)
	id, _ := sl["leadId"].(string)
	return id
}

// countStored returns how many of ids are rows of table (by column).
func countStored(t *testing.T, db *sql.DB, table, column string, ids []string) int {
	t.Helper()
	var n int
	q := `SELECT count(*) FROM ` + table + ` WHERE ` + column + `::text = ANY($1)`
	if err := db.QueryRowContext(context.Background(), q, pq.Array(ids)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// freePort returns a loopback port nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
