package trigger

import (
	"errors"
	"fmt"
	"strings"
)

// MetricSelector picks series from a Prometheus text exposition: a metric name and label
// values that must match exactly, written as in PromQL (name{label="value",...}).
type MetricSelector struct {
	Name   string
	Labels []Label // in the order written
}

// Label is one name="value" matcher of a MetricSelector.
type Label struct{ Name, Value string }

// ParseMetricSelector reads a selector such as http_requests_total{code="200"} or
// {__name__="up",job="api"}. Only equality matchers are accepted: a series must carry every
// label with exactly the value given.
func ParseMetricSelector(s string) (MetricSelector, error) {
	p := selectorParser{s: strings.TrimSpace(s)}
	var sel MetricSelector
	sel.Name = p.ident(true)
	if p.done() {
		if sel.Name == "" {
			return sel, errors.New("must be a metric name such as queue_depth or queue_depth{queue=\"orders\"}")
		}
		return sel, nil
	}
	if !p.eat('{') {
		return sel, fmt.Errorf("unexpected %q after the metric name", p.rest())
	}
	labels, err := p.labels()
	if err != nil {
		return sel, err
	}
	for _, l := range labels {
		if l.Name != "__name__" {
			sel.Labels = append(sel.Labels, l)
			continue
		}
		if sel.Name != "" && sel.Name != l.Value {
			return sel, fmt.Errorf("names two metrics, %q and %q", sel.Name, l.Value)
		}
		sel.Name = l.Value
	}
	if sel.Name == "" {
		return sel, errors.New("names no metric: put the name before { or set __name__")
	}
	return sel, nil
}

// String writes the selector back in PromQL form.
func (s MetricSelector) String() string {
	if len(s.Labels) == 0 {
		return s.Name
	}
	parts := make([]string, len(s.Labels))
	for i, l := range s.Labels {
		parts[i] = fmt.Sprintf("%s=%q", l.Name, l.Value)
	}
	return s.Name + "{" + strings.Join(parts, ",") + "}"
}

type selectorParser struct {
	s   string
	pos int
}

func (p *selectorParser) done() bool   { return p.pos >= len(p.s) }
func (p *selectorParser) rest() string { return p.s[p.pos:] }

func (p *selectorParser) skipSpace() {
	for !p.done() && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

func (p *selectorParser) eat(c byte) bool {
	p.skipSpace()
	if !p.done() && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

// ident reads a metric name (colons allowed) or a label name.
func (p *selectorParser) ident(metric bool) string {
	p.skipSpace()
	start := p.pos
	for !p.done() {
		c := p.s[p.pos]
		letter := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (metric && c == ':')
		if !letter && (p.pos == start || c < '0' || c > '9') {
			break
		}
		p.pos++
	}
	return p.s[start:p.pos]
}

// labels reads name="value" pairs up to the closing brace (a trailing comma is allowed).
func (p *selectorParser) labels() ([]Label, error) {
	var out []Label
	for {
		if p.eat('}') {
			break
		}
		name := p.ident(false)
		if name == "" {
			return nil, fmt.Errorf("expected a label name at %q", p.rest())
		}
		p.skipSpace()
		if strings.HasPrefix(p.rest(), "!=") || strings.HasPrefix(p.rest(), "=~") || strings.HasPrefix(p.rest(), "!~") {
			return nil, fmt.Errorf("label %s: only = matchers are supported", name)
		}
		if !p.eat('=') {
			return nil, fmt.Errorf("label %s: expected =", name)
		}
		value, err := p.quoted()
		if err != nil {
			return nil, fmt.Errorf("label %s: %w", name, err)
		}
		out = append(out, Label{Name: name, Value: value})
		if p.eat(',') {
			continue
		}
		if !p.eat('}') {
			return nil, fmt.Errorf("expected , or } at %q", p.rest())
		}
		break
	}
	p.skipSpace()
	if !p.done() {
		return nil, fmt.Errorf("unexpected %q after }", p.rest())
	}
	return out, nil
}

// quoted reads a "double" or 'single' quoted string with backslash escapes.
func (p *selectorParser) quoted() (string, error) {
	p.skipSpace()
	if p.done() || (p.s[p.pos] != '"' && p.s[p.pos] != '\'') {
		return "", errors.New("value must be quoted")
	}
	quote := p.s[p.pos]
	p.pos++
	var b strings.Builder
	for !p.done() {
		c := p.s[p.pos]
		p.pos++
		switch {
		case c == quote:
			return b.String(), nil
		case c != '\\':
			b.WriteByte(c)
		case p.done():
			return "", errors.New("unterminated escape")
		default:
			esc := p.s[p.pos]
			p.pos++
			switch esc {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case '\\', '"', '\'':
				b.WriteByte(esc)
			default:
				return "", fmt.Errorf("unknown escape \\%c", esc)
			}
		}
	}
	return "", errors.New("unterminated quoted value")
}
