package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
)

// The validation layer of the command line: numeric flags are defined
// with the helpers below, each naming its valid range next to the flag.
// parse checks every flag given on the command line after flag.Parse and
// refuses stray positional arguments, so that a bad value is one error
// line naming the flag, its range and the value, before any work starts.

// flagError is a command line the flags refuse: run prints it on one
// line and exits with status 2.
type flagError struct{ msg string }

func (e *flagError) Error() string { return e.msg }

func flagErrorf(format string, a ...any) error { return &flagError{fmt.Sprintf(format, a...)} }

// checked is a flag.Value that validates its value after parsing.
type checked interface {
	flag.Value
	check(name string) error
}

// countValue is a whole number of unit, at least min. A keyword, when
// set, is the alternative to a number (stored as 0, which is then not
// accepted as a number).
type countValue struct {
	p       *int
	min     int
	unit    string
	keyword string
	raw     string
}

func (v *countValue) String() string {
	if v == nil || v.p == nil {
		return ""
	}
	if v.keyword != "" && *v.p == 0 {
		return v.keyword
	}
	return strconv.Itoa(*v.p)
}

func (v *countValue) Set(s string) error {
	v.raw = s
	if v.keyword != "" && s == v.keyword {
		*v.p = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 0, strconv.IntSize)
	if err != nil {
		return errors.New("not a whole number")
	}
	*v.p = int(n)
	return nil
}

func (v *countValue) check(name string) error {
	if v.keyword != "" && v.raw == v.keyword {
		return nil
	}
	if *v.p >= v.min {
		return nil
	}
	what := "a positive number of " + v.unit
	if v.min == 0 {
		what = "zero or a positive number of " + v.unit
	}
	if v.keyword != "" {
		what += fmt.Sprintf(" or %q", v.keyword)
	}
	return flagErrorf("--%s must be %s, got %s", name, what, v.raw)
}

// countVar defines an int flag that must be at least min (0 or 1).
func countVar(fs *flag.FlagSet, p *int, name string, value, min int, unit, usage string) {
	*p = value
	fs.Var(&countValue{p: p, min: min, unit: unit}, name, usage)
}

func count(fs *flag.FlagSet, name string, value, min int, unit, usage string) *int {
	p := new(int)
	countVar(fs, p, name, value, min, unit, usage)
	return p
}

// countOrVar defines a positive int flag whose alternative is keyword,
// stored as 0 (e.g. --max-tokens all); value 0 makes the keyword the default.
func countOrVar(fs *flag.FlagSet, p *int, name string, value int, keyword, unit, usage string) {
	*p = value
	fs.Var(&countValue{p: p, min: 1, unit: unit, keyword: keyword}, name, usage)
}

// optCount is an int flag without a default of its own: set tells whether
// the command line gave it.
type optCount struct {
	countValue
	n   int
	set bool
}

func (o *optCount) Set(s string) error {
	o.set = true
	return o.countValue.Set(s)
}

func optionalCount(fs *flag.FlagSet, name string, min int, unit, usage string) *optCount {
	o := &optCount{}
	o.countValue = countValue{p: &o.n, min: min, unit: unit}
	fs.Var(o, name, usage)
	return o
}

func (o *optCount) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.Itoa(o.n)
}

// rangeValue is a finite float64 in an interval.
type rangeValue struct {
	p              *float64
	lo, hi         float64
	loOpen, hiOpen bool
	what           string // "a number" or "a fraction"
	raw            string
	set            bool
}

func (v *rangeValue) String() string {
	if v == nil || v.p == nil {
		return ""
	}
	return strconv.FormatFloat(*v.p, 'g', -1, 64)
}

func (v *rangeValue) Set(s string) error {
	x, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return errors.New("not a number")
	}
	*v.p, v.raw, v.set = x, s, true
	return nil
}

func (v *rangeValue) check(name string) error {
	x := *v.p
	ok := !math.IsNaN(x) && !math.IsInf(x, 0) &&
		(x > v.lo || !v.loOpen && x == v.lo) && (x < v.hi || !v.hiOpen && x == v.hi)
	if ok {
		return nil
	}
	l, r := "[", "]"
	if v.loOpen {
		l = "("
	}
	if v.hiOpen {
		r = ")"
	}
	return flagErrorf("--%s must be %s in %s%s, %s%s, got %s", name, v.what, l, fmtBound(v.lo), fmtBound(v.hi), r,
		strconv.FormatFloat(x, 'g', -1, 64))
}

func fmtBound(x float64) string {
	if math.IsInf(x, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// rangeVar defines a float64 flag valid in [lo, hi], an end open when
// its flag says so; NaN and infinities are always refused.
func rangeVar(fs *flag.FlagSet, p *float64, name string, value, lo, hi float64, loOpen, hiOpen bool, usage string) *rangeValue {
	*p = value
	v := &rangeValue{p: p, lo: lo, hi: hi, loOpen: loOpen, hiOpen: hiOpen, what: "a number"}
	fs.Var(v, name, usage)
	return v
}

// ratioVar defines a fraction flag valid in [0, 1).
func ratioVar(fs *flag.FlagSet, p *float64, name string, value float64, usage string) *rangeValue {
	v := rangeVar(fs, p, name, value, 0, 1, false, true, usage)
	v.what = "a fraction"
	return v
}

// requiredRatio defines a fraction flag in [0, 1) without a default: its
// set field tells whether the command line gave it.
func requiredRatio(fs *flag.FlagSet, name, usage string) *rangeValue {
	v := &rangeValue{p: new(float64), lo: 0, hi: 1, hiOpen: true, what: "a fraction"}
	fs.Var((*optRatio)(v), name, usage)
	return v
}

// optRatio prints no default in the help.
type optRatio rangeValue

func (o *optRatio) String() string {
	if o == nil || !o.set {
		return ""
	}
	return (*rangeValue)(o).String()
}
func (o *optRatio) Set(s string) error      { return (*rangeValue)(o).Set(s) }
func (o *optRatio) check(name string) error { return (*rangeValue)(o).check(name) }

// checkFlags validates every flag the command line set.
func checkFlags(fs *flag.FlagSet) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if c, ok := f.Value.(checked); ok && err == nil {
			err = c.check(f.Name)
		}
	})
	return err
}
