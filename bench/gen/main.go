// Command gen loads a marketplace of a given scale into a freshly migrated
// database for the benchmarks, with COPY, and writes a workload file that
// bench/load reads (popular search terms and regions, listings to open,
// sellers with busy inboxes).
//
// At scale 1: 50,000 sellers (with contacts and one to three yards),
// 1,000,000 listings with 3 media each, 200,000 leads (personal data sealed
// as the gateway seals it, each with its notification) and 10,000,000
// events over the last 90 days, plus the daily rollups computed from the
// events and leads. The data is skewed as a real marketplace is (Zipf): a
// few sellers own many listings, a few parts are listed very often, a few
// listings get most views and leads, a few search terms dominate. The same
// scale and -seed give the same data.
//
// For speed it drops the indexes and keys of the tables it fills, copies
// each big table over -streams parallel COPY streams, builds the indexes
// again and analyses the tables; it prints the time of every step. Leads
// and events are loaded only when the schema has them (migrations 00005
// and 00007).
//
//	DATABASE_URL=postgres://…/gateway_bench go run ./bench/gen -scale 0.01 -workload bench.json
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/partsmarket/gateway/bench/workload"
	"github.com/partsmarket/gateway/internal/database"
	"github.com/partsmarket/gateway/internal/pii"
)

func main() {
	scale := flag.Float64("scale", 0.01, "size relative to 50,000 sellers and 1,000,000 listings")
	seed := flag.Uint64("seed", 20261122, "random seed: the same seed and scale give the same data")
	streams := flag.Int("streams", 2, "parallel COPY streams (and index builds) per table")
	out := flag.String("workload", "workload.json", "where to write the workload file for bench/load")
	recreate := flag.Bool("recreate", false, "drop and create DATABASE_URL's database (its name must contain \"bench\") and migrate it first")
	flag.Parse()
	if err := run(context.Background(), *scale, *seed, *streams, *out, *recreate); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, scale float64, seed uint64, streams int, out string, recreate bool) error {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		return errors.New("DATABASE_URL is required (a freshly migrated database)")
	}
	if scale <= 0 || scale > 10 {
		return errors.New("-scale must be in (0, 10]")
	}
	keys, err := keyring()
	if err != nil {
		return err
	}
	if recreate {
		start := time.Now()
		if err := recreateDatabase(ctx, url); err != nil {
			return err
		}
		fmt.Printf("gen: database recreated and migrated in %.1fs\n", time.Since(start).Seconds())
	}
	db, err := sql.Open("postgres", url)
	if err != nil {
		return err
	}
	defer db.Close()
	p := newPlan(scale, seed, time.Now(), streams)
	fmt.Printf("gen: scale %g: %d sellers, %d listings, %d media, %d leads, %d events; %d streams\n",
		scale, p.sellers, p.listings, p.listings*mediaPerListing, p.leads, p.events, p.streams)
	start := time.Now()
	res, err := load(ctx, db, p, keys, os.Stdout)
	if err != nil {
		return err
	}
	for _, s := range res.skipped {
		fmt.Println("gen: skipped", s)
	}
	if err := workload.Write(out, res.workload); err != nil {
		return err
	}
	fmt.Printf("gen: total %.1fs; workload written to %s\n", time.Since(start).Seconds(), out)
	return nil
}

// recreateDatabase drops and creates the database url names, connected to
// the server's postgres database, and migrates it. It refuses a database
// whose name does not contain "bench", so it never drops development data.
func recreateDatabase(ctx context.Context, url string) error {
	dsn := url
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		var err error
		if dsn, err = pq.ParseURL(dsn); err != nil {
			return errors.New("DATABASE_URL is not a valid postgres:// URL")
		}
	}
	m := regexp.MustCompile(`(?:^|\s)dbname=('(?:[^'\\]|\\.)*'|\S+)`).FindAllStringSubmatch(dsn, -1)
	if len(m) == 0 {
		return errors.New("-recreate: DATABASE_URL names no database")
	}
	name := strings.Trim(m[len(m)-1][1], "'")
	if !strings.Contains(name, "bench") {
		return fmt.Errorf("-recreate: refusing to drop database %q: its name does not contain \"bench\"", name)
	}
	admin, err := sql.Open("postgres", dsn+" dbname=postgres")
	if err != nil {
		return err
	}
	defer admin.Close()
	for _, q := range []string{
		"DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name) + " WITH (FORCE)",
		"CREATE DATABASE " + pq.QuoteIdentifier(name),
	} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	db, err := sql.Open("postgres", url)
	if err != nil {
		return err
	}
	defer db.Close()
	return database.MigrateUp(ctx, db)
}

// keyring returns the keys the gateway seals personal data with:
// ENCRYPTION_KEYS and BLIND_INDEX_KEY, or the development keys when both
// are unset (as the gateway does outside production).
func keyring() (*pii.Keyring, error) {
	enc, bidx := os.Getenv("ENCRYPTION_KEYS"), os.Getenv("BLIND_INDEX_KEY")
	if enc == "" && bidx == "" {
		return pii.Dev(), nil
	}
	return pii.Parse(enc, bidx)
}
