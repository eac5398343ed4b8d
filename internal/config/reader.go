package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// reader reads variables through their entries in Vars and collects one
// error per variable its kind cannot read, so that Load reports them all.
type reader struct {
	getenv     func(string) string
	production bool
	errs       []error
}

// text returns name's value, or its table fallback when unset.
func (r *reader) text(name string, kind Kind) string {
	v := lookup(name, kind)
	if s := r.getenv(name); s != "" {
		return s
	}
	return v.fallback(r.production)
}

// str reads a String variable.
func (r *reader) str(name string) string { return r.text(name, String) }

// list reads a List variable: comma-separated, blanks dropped.
func (r *reader) list(name string) []string {
	var out []string
	for _, s := range strings.Split(r.text(name, List), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// int reads an Int variable; 0 when unset without a default.
func (r *reader) int(name string) int {
	s := r.text(name, Int)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		r.errs = append(r.errs, fmt.Errorf("%s must be a positive integer", name))
	}
	return n
}

// dur reads a Duration variable.
func (r *reader) dur(name string) time.Duration {
	s := r.text(name, Duration)
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		r.errs = append(r.errs, fmt.Errorf("%s must be a duration such as 1s", name))
	}
	return d
}

// flag reads a Flag variable.
func (r *reader) flag(name string) bool {
	switch r.text(name, Flag) {
	case "on", "true", "1":
		return true
	case "off", "false", "0", "":
		return false
	}
	r.errs = append(r.errs, fmt.Errorf("%s must be on or off", name))
	return false
}

// float reads a Float variable.
func (r *reader) float(name string) float64 {
	s := r.text(name, Float)
	if s == "" {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s must be a number", name))
	}
	return f
}
