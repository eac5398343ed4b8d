package main

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/partsmarket/gateway/internal/graphiql"
	"github.com/partsmarket/gateway/store"
)

// TestGraphiQLInBrowser opens GraphiQL in headless Chromium with every
// request to a host other than 127.0.0.1 failing (as offline), runs the
// query the page opens with, and sees its result: the page needs nothing
// but the gateway. The browser reports every request, console error,
// uncaught exception and Content-Security-Policy violation; there must be
// no request elsewhere and no error. Chromium comes from
// scripts/chromium.sh, which installs Debian's chromium when it is missing.
//
// chromedp (a test dependency only) drives the browser over the DevTools
// protocol: it waits for GraphiQL to render, clicks its run button and
// reads the result pane, which a one-shot --dump-dom could only guess the
// timing of.
func TestGraphiQLInBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	api := newTestAPI(t, map[string]string{"GRAPHIQL": "on"})
	seller := api.mustSeller("Offline Parts", store.SellerActive)
	api.mustListing(seller.ID, "Offline alternator 4N-5021", store.ListingActive)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox, // tests may run as root, which Chromium's sandbox refuses
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	// Open the tab first, so that the listener sees all of the page's
	// events.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	var mu sync.Mutex
	var requested, problems []string
	err := chromedp.Listen(browser, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			requested = append(requested, e.Request.URL)
		case *network.EventLoadingFailed:
			problems = append(problems, "request failed: "+e.ErrorText)
		case *cdplog.EventEntryAdded: // CSP violations and failed loads come this way
			if e.Entry.Level == cdplog.EntryLevelError {
				problems = append(problems, "browser log: "+e.Entry.Text)
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "uncaught exception: "+e.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				problems = append(problems, "console.error called")
			}
		}
	})
	if err == nil {
		_, err = chromedp.Call(browser, runtime.Enable, cdp.Empty{})
	}
	if err != nil {
		t.Fatalf("listen to Chromium: %v", err)
	}

	var query, result string
	err = chromedp.Do(browser,
		chromedp.Navigate(api.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-execute-button")),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) (err error) {
			query, err = chromedp.Text(chromedp.CSS(".graphiql-query-editor"))(ctx, tg)
			return err
		}),
		chromedp.Click(chromedp.CSS(".graphiql-execute-button")),
		chromedp.Poll[chromedp.Void](`(document.querySelector(".result-window") || {}).innerText?.includes("totalCount")`,
			chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(time.Minute)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) (err error) {
			result, err = chromedp.Text(chromedp.CSS(".result-window"))(ctx, tg)
			return err
		}),
	)
	if err != nil {
		mu.Lock()
		t.Fatalf("GraphiQL in Chromium: %v (browser problems: %v)", err, problems)
	}
	if !strings.Contains(query, "query FirstListings") {
		t.Errorf("query editor: got %q, want the example query", query)
	}
	for _, want := range []string{`"totalCount": 1`, "Offline alternator 4N-5021", "Offline Parts"} {
		if !strings.Contains(result, want) {
			t.Errorf("result pane: got %q, want it to contain %q", result, want)
		}
	}
	if strings.Contains(result, `"errors"`) {
		t.Errorf("result pane: got errors: %q", result)
	}

	mu.Lock()
	defer mu.Unlock()
	base, _ := url.Parse(api.URL)
	var toGateway int
	for _, u := range requested {
		p, err := url.Parse(u)
		switch {
		case err == nil && p.Scheme == "data":
		case err == nil && p.Host == base.Host:
			toGateway++
		default:
			t.Errorf("request to another host: %s", u)
		}
	}
	// The page, its six files and at least the query.
	if toGateway < 8 {
		t.Errorf("requests to the gateway: got %d (%v), want at least the page, its files and the query", toGateway, requested)
	}
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
}

// TestGraphiQLHeaders checks what the browser test cannot see: the page is
// served with the Content-Security-Policy, the example query and the
// Authorization template are on it, its files are gzipped, and there is no
// page with GRAPHIQL=off.
func TestGraphiQLHeaders(t *testing.T) {
	api := newTestAPI(t, map[string]string{"GRAPHIQL": "on"})
	req := httpNewRequest(t, "GET", api.URL+"/", nil)
	r := api.send(req)
	if r.Status != 200 {
		t.Fatalf("GET /: got %d", r.Status)
	}
	if got := r.Header.Get("Content-Security-Policy"); got != graphiql.ContentSecurityPolicy {
		t.Errorf("Content-Security-Policy: got %q, want %q", got, graphiql.ContentSecurityPolicy)
	}
	for _, want := range []string{"query FirstListings", "Authorization"} {
		if !strings.Contains(r.Raw, want) {
			t.Errorf("page: want it to contain %q", want)
		}
	}
	// Its files are gzipped for clients that accept it (the Go client
	// asks for gzip and decodes it unless the request names an encoding).
	req = httpNewRequest(t, "GET", api.URL+graphiql.AssetPrefix+"graphiql.min.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	if r := api.send(req); r.Status != 200 || r.Header.Get("Content-Encoding") != "gzip" || len(r.Raw) > 400<<10 {
		t.Errorf("graphiql.min.js: got %d, Content-Encoding %q, %d bytes; want 200 gzipped under 400 KiB",
			r.Status, r.Header.Get("Content-Encoding"), len(r.Raw))
	}
	off := newTestAPI(t, map[string]string{"GRAPHIQL": "off"})
	if r := off.send(httpNewRequest(t, "GET", off.URL+"/", nil)); r.Status != 404 {
		t.Errorf("GET / with GRAPHIQL=off: got %d, want 404", r.Status)
	}
}

// chromiumPath returns the Chromium that scripts/chromium.sh finds or
// installs.
func chromiumPath(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("scripts/chromium.sh")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/chromium.sh: %v", err)
	}
	return strings.TrimSpace(string(out))
}
