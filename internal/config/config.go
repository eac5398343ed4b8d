// Package config reads the gateway's settings from the environment. Each
// setting has a development default; production refuses the defaults of
// secrets.
package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DevJWTSecret is the development default of JWT_SECRET; production
// refuses it.
const DevJWTSecret = "development-only-jwt-secret-do-not-use-in-production"

// DevDatabaseURL is the development default of DATABASE_URL: the private
// cluster that scripts/db.sh starts for make run.
const DevDatabaseURL = "postgres://postgres@127.0.0.1:54329/gateway?sslmode=disable"

// Config is every setting of the gateway.
type Config struct {
	Env             string
	DatabaseURL     string
	Port            int
	JWTSecret       string
	JWTIssuer       string
	JWTAudience     string
	CORSOrigins     []string
	CaptchaProvider string
	CaptchaSecret   string
	GraphiQL        bool
	Introspection   bool
	MaxBodyBytes    int64
	LoaderWait      time.Duration
	SearchFlush     time.Duration
	ShutdownGrace   time.Duration
	DBMaxConns      int
}

// Production reports whether ENV is production.
func (c Config) Production() bool { return c.Env == "production" }

// Load reads the configuration from getenv (os.Getenv in the binary) and
// checks it. Errors name the offending variable.
func Load(getenv func(string) string) (Config, error) {
	env := or(getenv("ENV"), "development")
	dev := env == "development"
	c := Config{
		Env:             env,
		DatabaseURL:     getenv("DATABASE_URL"),
		JWTSecret:       getenv("JWT_SECRET"),
		JWTIssuer:       getenv("JWT_ISSUER"),
		JWTAudience:     getenv("JWT_AUDIENCE"),
		CORSOrigins:     list(or(getenv("CORS_ALLOWED_ORIGINS"), "http://localhost:3000")),
		CaptchaProvider: or(getenv("CAPTCHA_PROVIDER"), "test"),
		CaptchaSecret:   getenv("CAPTCHA_SECRET"),
		MaxBodyBytes:    1 << 20,
		ShutdownGrace:   20 * time.Second,
	}
	var errs []error
	num := func(name string, def int) int {
		v := getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("%s must be a positive integer", name))
		}
		return n
	}
	dur := func(name string, def time.Duration) time.Duration {
		v := getenv(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s must be a duration such as 1s", name))
		}
		return d
	}
	flag := func(name string, def bool) bool {
		switch getenv(name) {
		case "":
			return def
		case "on", "true", "1":
			return true
		case "off", "false", "0":
			return false
		}
		errs = append(errs, fmt.Errorf("%s must be on or off", name))
		return def
	}
	c.Port = num("PORT", 8080)
	c.DBMaxConns = num("DATABASE_MAX_CONNS", 20)
	c.LoaderWait = dur("LOADER_WAIT", time.Millisecond)
	c.SearchFlush = dur("EVENT_FLUSH_INTERVAL", time.Second)
	c.GraphiQL = flag("GRAPHIQL", dev)
	c.Introspection = flag("INTROSPECTION", dev)
	if env != "development" && env != "production" {
		errs = append(errs, errors.New("ENV must be development or production"))
	}
	if c.DatabaseURL == "" && !c.Production() {
		c.DatabaseURL = DevDatabaseURL
	}
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL is required in production"))
	}
	if c.JWTSecret == "" && !c.Production() {
		c.JWTSecret = DevJWTSecret
	}
	if c.Production() {
		if len(c.JWTSecret) < 32 || c.JWTSecret == DevJWTSecret {
			errs = append(errs, errors.New("JWT_SECRET must be set to a secret of at least 32 bytes in production"))
		}
		if c.CaptchaProvider == "test" {
			errs = append(errs, errors.New("CAPTCHA_PROVIDER test is refused in production"))
		}
		for _, o := range c.CORSOrigins {
			if o == "*" {
				errs = append(errs, errors.New("CORS_ALLOWED_ORIGINS must not allow * in production"))
			}
		}
	}
	return c, errors.Join(errs...)
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
