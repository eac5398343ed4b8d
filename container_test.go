package main

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/partsmarket/gateway/internal/access"
	"github.com/partsmarket/gateway/internal/testdb"
	"github.com/partsmarket/gateway/store"
)

// No container engine runs where the tests run, so the image is checked in
// parts: the Dockerfile's build command is run as it is written, and the
// binary it makes is run the way the image runs it (as an unprivileged
// user, the working directory and everything but TMPDIR and MEDIA_DIR
// unwritable).

// dockerfile is what the tests read of the Dockerfile: the build stage's
// command that makes the binary, and the final stage's user and settings.
type dockerfile struct {
	buildCommand []string // the argv of the build script's RUN step, output last
	user         string
	env          map[string]string
}

// readDockerfile parses the repository's Dockerfile (what these tests need
// of it: single-line RUN, USER and ENV key=value steps, continuation
// lines joined).
func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	raw, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	d := dockerfile{env: map[string]string{}}
	stages := 0
	var logical []string
	var cur strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		logical = append(logical, cur.String())
		cur.Reset()
	}
	for _, step := range logical {
		instr, args, _ := strings.Cut(step, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			stages++
		case "RUN":
			for _, cmd := range strings.Split(args, "&&") {
				if f := strings.Fields(cmd); stages == 1 && strings.Contains(cmd, "build-static.sh") {
					d.buildCommand = f
				}
			}
		case "USER":
			d.user = strings.TrimSpace(args)
		case "ENV":
			if stages > 1 {
				for _, kv := range strings.Fields(args) {
					k, v, _ := strings.Cut(kv, "=")
					d.env[k] = v
				}
			}
		}
	}
	if stages != 2 {
		t.Fatalf("Dockerfile has %d stages, want a build stage and the final one", stages)
	}
	return d
}

// TestDockerfileFinalStage: the image runs as a numeric non-root user (so
// the runtime needs no passwd lookup to know it is not root), in
// production mode, with its writable places named.
func TestDockerfileFinalStage(t *testing.T) {
	d := readDockerfile(t)
	uid, _, _ := strings.Cut(d.user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("USER %q, want a numeric user other than root", d.user)
	}
	for k, want := range map[string]string{"ENV": "production", "TMPDIR": "/tmp", "MEDIA_DIR": "/data/media"} {
		if d.env[k] != want {
			t.Errorf("ENV %s=%q, want %q", k, d.env[k], want)
		}
	}
	if len(d.buildCommand) == 0 {
		t.Fatal("the build stage does not run scripts/build-static.sh")
	}
}

// TestContainerBinaryRunsUnprivileged builds the binary with the
// Dockerfile's own build command, checks that it is static, and runs it
// as the image does, in production mode: as the unprivileged user nobody
// (when the test runs as root, as on CI; otherwise as the test's user),
// from a working directory it cannot write, with only TMPDIR and MEDIA_DIR
// writable. It must serve /healthz, /readyz and a query, take an upload
// large enough to be spooled to TMPDIR and store it under MEDIA_DIR, and
// stop cleanly on SIGTERM, having written nowhere else.
func TestContainerBinaryRunsUnprivileged(t *testing.T) {
	d := readDockerfile(t)
	if len(d.buildCommand) < 2 {
		t.Fatal("the build stage does not run scripts/build-static.sh with an output path")
	}
	root := t.TempDir()
	// The temporary directories are made 0700 by their creator: open the
	// way to the binary for the unprivileged user.
	for _, dir := range []string{filepath.Dir(root), root} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	binDir, workDir, tmpDir := filepath.Join(root, "bin"), filepath.Join(root, "work"), filepath.Join(root, "tmp")
	for _, dir := range []string{binDir, workDir, tmpDir} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(binDir, "gateway")
	argv := append(append([]string{}, d.buildCommand[:len(d.buildCommand)-1]...), bin)
	build := exec.Command(argv[0], argv[1:]...)
	build.Env = append(os.Environ(), "GOFLAGS=") // as in the build stage: no flags but the script's
	// Into a file, not a pipe: a process the go command leaves behind
	// (its telemetry upload) would hold a pipe open after the build ends.
	buildLog, err := os.Create(filepath.Join(root, "build.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer buildLog.Close()
	build.Stdout, build.Stderr = buildLog, buildLog
	if err := build.Run(); err != nil {
		out, _ := os.ReadFile(buildLog.Name())
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	wantStatic(t, bin)

	var runAs []string
	if os.Getuid() == 0 {
		const nobody = 65534
		runAs = []string{"setpriv", "--reuid=" + strconv.Itoa(nobody), "--regid=" + strconv.Itoa(nobody), "--clear-groups", "--"}
		if err := os.Chown(tmpDir, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	// The working directory and the binary's are the read-only root
	// filesystem: nobody may write there (nor, run as the test's own
	// user, may it: the directory has no write bit).
	for _, dir := range []string{workDir, binDir} {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(tmpDir, 0o700); err != nil {
		t.Fatal(err)
	}

	dbURL := testdb.New(t)
	env := productionEnv()
	env["DATABASE_URL"] = testdb.ServingURL(t, dbURL)
	env["PORT"] = strconv.Itoa(httpFreePort(t))
	env["METRICS_ADDR"] = "127.0.0.1:" + strconv.Itoa(httpFreePort(t))
	env["TMPDIR"] = tmpDir
	env["MEDIA_DIR"] = filepath.Join(tmpDir, "media")
	env["PUBLIC_BASE_URL"] = "http://127.0.0.1:" + env["PORT"]
	args := append(runAs, bin, "serve")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = workDir
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	base := "http://127.0.0.1:" + env["PORT"]
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			stopped = true
			t.Fatalf("the gateway exited before serving: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no /healthz within a minute:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if os.Getuid() == 0 {
		if uid := processUID(t, cmd.Process.Pid); uid != 65534 {
			t.Errorf("the gateway runs as uid %d, want nobody (65534)", uid)
		}
	}
	if status, body := httpGet(t, base+"/readyz"); status != http.StatusOK {
		t.Errorf("/readyz: %d %s\n%s", status, body, logs.String())
	}
	status, body := postJSON(t, base+"/graphql", `{"query":"{ listings(first: 1) { totalCount } }"}`, "")
	if status != http.StatusOK || !strings.Contains(body, `"totalCount":0`) {
		t.Errorf("query: %d %s", status, body)
	}

	// An import over 1 MiB is spooled to TMPDIR, then stored under
	// MEDIA_DIR/imports. (Its rows do not matter: its header is not one,
	// so the worker fails it at once instead of importing thousands of
	// rows.)
	db := sqlx.MustConnect("postgres", dbURL)
	defer db.Close()
	st := store.New(db)
	seller, err := st.CreateSeller(context.Background(), store.NewSeller{Slug: "ro-yard", CompanyName: "Read-Only Yard",
		Locations: []store.NewLocation{{City: "Perth", Country: "AU"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetSellerStatus(context.Background(), seller.ID, store.SellerActive); err != nil {
		t.Fatal(err)
	}
	token, err := access.Mint(access.TokenConfig{Secret: []byte(env["JWT_SECRET"])}, access.RoleSeller, "container-test", seller.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var csv bytes.Buffer
	csv.WriteString("padding\n")
	for i := 0; csv.Len() < 1200<<10; i++ {
		fmt.Fprintf(&csv, "row %06d of an upload larger than what is kept in memory\n", i)
	}
	status, body = postImport(t, base+"/graphql", token, seller.ID, csv.Bytes())
	if status != http.StatusOK || !strings.Contains(body, `"status"`) || strings.Contains(body, `"errors"`) {
		t.Errorf("import upload: %d %s\n%s", status, body, logs.String())
	}
	stored, _ := filepath.Glob(filepath.Join(env["MEDIA_DIR"], "imports", "*"))
	if len(stored) == 0 {
		t.Errorf("the import was not stored under MEDIA_DIR/imports")
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Errorf("the gateway stopped with %v on SIGTERM:\n%s", err, logs.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the gateway did not stop within a minute of SIGTERM:\n%s", logs.String())
	}
	if entries, _ := os.ReadDir(workDir); len(entries) > 0 {
		t.Errorf("the gateway wrote %d entries into its working directory", len(entries))
	}
	if strings.Contains(logs.String(), "read-only file system") || strings.Contains(logs.String(), "permission denied") {
		t.Errorf("the gateway tried to write where it may not:\n%s", logs.String())
	}
}

// wantStatic fails unless bin is an ELF executable without a dynamic
// loader or shared libraries.
func wantStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary is dynamically linked (program header %v)", p.Type)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v", libs)
	}
}

// processUID returns the real uid of process pid.
func processUID(t *testing.T, pid int) int {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 1 && fields[0] == "Uid:" {
			uid, _ := strconv.Atoi(fields[1])
			return uid
		}
	}
	t.Fatal("no Uid line in the process status")
	return -1
}

// httpGet returns a GET's status and body.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// postJSON posts a JSON GraphQL request with an optional bearer token.
func postJSON(t *testing.T, url, body, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return doRequest(t, req)
}

// postImport uploads csv to importListings for sellerID.
func postImport(t *testing.T, url, token, sellerID string, csv []byte) (int, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{"query": importMutation, "variables": map[string]any{"seller": sellerID, "file": nil}})
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0": ["variables.file"]}`)
	part, _ := mw.CreateFormFile("0", "listings.csv")
	_, _ = part.Write(csv)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, url, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("GraphQL-Require-Preflight", "1")
	req.Header.Set("Authorization", "Bearer "+token)
	return doRequest(t, req)
}

// doRequest sends req and returns the status and body.
func doRequest(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
