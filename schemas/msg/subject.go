package msg

import (
	"fmt"
	"strconv"
	"strings"
)

// DefaultPrefix is the first token of every ebb subject unless configured otherwise.
const DefaultPrefix Prefix = "ebb"

// Prefix is the first token of every subject, so several ebb installations can share one NATS
// account. The zero value means DefaultPrefix.
type Prefix string

// Type is the kind of message a subject carries; it is the subject's second token.
type Type string

const (
	TypeReading  Type = "reading"
	TypeDecision Type = "decision"
	TypeAction   Type = "action"
)

// Types lists every message type in a stable order.
func Types() []Type { return []Type{TypeReading, TypeDecision, TypeAction} }

// Address is what a subject says: the message type, the object and, for readings, the trigger.
type Address struct {
	Type      Type
	Namespace string
	Kind      Kind
	Name      string
	Trigger   int // trigger index; 0 and meaningless unless Type is TypeReading
}

// ReadingSubject is DefaultPrefix.Reading.
func ReadingSubject(ref ObjectRef, trigger int) string { return DefaultPrefix.Reading(ref, trigger) }

// DecisionSubject is DefaultPrefix.Decision.
func DecisionSubject(ref ObjectRef) string { return DefaultPrefix.Decision(ref) }

// ActionSubject is DefaultPrefix.Action.
func ActionSubject(ref ObjectRef) string { return DefaultPrefix.Action(ref) }

// String returns the prefix, or DefaultPrefix when p is empty.
func (p Prefix) String() string {
	if p == "" {
		return string(DefaultPrefix)
	}
	return string(p)
}

// Validate reports whether p can be used as one subject token and inside stream and bucket names.
func (p Prefix) Validate() error {
	for _, c := range []byte(p.String()) {
		if !isPlain(c) && c != '_' {
			return fmt.Errorf("prefix %q: only letters, digits, '-' and '_' are allowed", string(p))
		}
	}
	return nil
}

// Reading returns <prefix>.reading.<namespace>.<so|sj>.<name>.<trigger>.
func (p Prefix) Reading(ref ObjectRef, trigger int) string {
	return p.String() + "." + string(TypeReading) + "." + ReadingKey(ref, trigger)
}

// Decision returns <prefix>.decision.<namespace>.<so|sj>.<name>.
func (p Prefix) Decision(ref ObjectRef) string {
	return p.String() + "." + string(TypeDecision) + "." + objectTokens(ref.Namespace, ref.Kind, ref.Name)
}

// Action returns <prefix>.action.<namespace>.<so|sj>.<name>.
func (p Prefix) Action(ref ObjectRef) string {
	return p.String() + "." + string(TypeAction) + "." + objectTokens(ref.Namespace, ref.Kind, ref.Name)
}

// Subject returns the subject m is published on.
func (p Prefix) Subject(m Message) string {
	switch m := m.(type) {
	case Reading:
		return p.Reading(m.Object, m.Trigger.Index)
	case Decision:
		return p.Decision(m.Object)
	case Action:
		return p.Action(m.Object)
	}
	panic(fmt.Sprintf("msg: unknown message type %T", m)) // Message is sealed
}

// All returns the wildcard subject matching every message of type t.
func (p Prefix) All(t Type) string { return p.String() + "." + string(t) + ".>" }

// Filter selects messages by object; empty fields match anything.
type Filter struct {
	Namespace string
	Kind      Kind
	Name      string
}

// Filter returns the subject matching messages of type t about the objects f selects.
func (p Prefix) Filter(t Type, f Filter) string {
	s := p.String() + "." + string(t) + "." + f.objectTokens()
	if t == TypeReading {
		s += ".*"
	}
	return s
}

// ReadingKeyFilter returns the readings-bucket key pattern matching the objects f selects.
func ReadingKeyFilter(f Filter) string { return f.objectTokens() + ".*" }

func (f Filter) objectTokens() string {
	tok := func(s string, enc func(string) string) string {
		if s == "" {
			return "*"
		}
		return enc(s)
	}
	kind := tok(string(f.Kind), func(s string) string { return kindToken(Kind(s)) })
	return tok(f.Namespace, escape) + "." + kind + "." + tok(f.Name, escape)
}

// Parse reads a subject built by p. It rejects anything the builders would not produce, so a
// parsed address always builds back to the same subject.
func (p Prefix) Parse(subject string) (Address, error) {
	head, rest, _ := strings.Cut(subject, ".")
	if head != p.String() {
		return Address{}, fmt.Errorf("subject %q: want prefix %q", subject, p.String())
	}
	typ, rest, _ := strings.Cut(rest, ".")
	want := 3
	switch Type(typ) {
	case TypeReading:
		want = 4
	case TypeDecision, TypeAction:
	default:
		return Address{}, fmt.Errorf("subject %q: unknown message type %q", subject, typ)
	}
	a, err := parseTokens(rest, want)
	if err != nil {
		return Address{}, fmt.Errorf("subject %q: %w", subject, err)
	}
	a.Type = Type(typ)
	return a, nil
}

// ReadingKey returns <namespace>.<so|sj>.<name>.<trigger>: the reading subject without its first
// two tokens, and the key of the trigger's last value in the readings bucket.
func ReadingKey(ref ObjectRef, trigger int) string {
	return objectTokens(ref.Namespace, ref.Kind, ref.Name) + "." + strconv.Itoa(trigger)
}

// ObjectKey returns <namespace>.<so|sj>.<name>: the object's part of its subjects, a key
// (or key suffix) of the buckets that hold per-object state.
func ObjectKey(ref ObjectRef) string { return objectTokens(ref.Namespace, ref.Kind, ref.Name) }

// ParseReadingKey reads a key built by ReadingKey.
func ParseReadingKey(key string) (Address, error) {
	a, err := parseTokens(key, 4)
	if err != nil {
		return Address{}, fmt.Errorf("reading key %q: %w", key, err)
	}
	a.Type = TypeReading
	return a, nil
}

func objectTokens(namespace string, kind Kind, name string) string {
	return escape(namespace) + "." + kindToken(kind) + "." + escape(name)
}

func parseTokens(s string, want int) (Address, error) {
	toks := strings.Split(s, ".")
	if len(toks) != want {
		return Address{}, fmt.Errorf("want %d tokens after the type, got %d", want, len(toks))
	}
	var a Address
	var err error
	if a.Namespace, err = unescape(toks[0]); err != nil {
		return Address{}, fmt.Errorf("namespace: %w", err)
	}
	if a.Kind, err = parseKindToken(toks[1]); err != nil {
		return Address{}, err
	}
	if a.Name, err = unescape(toks[2]); err != nil {
		return Address{}, fmt.Errorf("name: %w", err)
	}
	if a.Namespace == "" || a.Name == "" {
		return Address{}, fmt.Errorf("empty namespace or name")
	}
	if want == 4 {
		if a.Trigger, err = parseIndex(toks[3]); err != nil {
			return Address{}, err
		}
	}
	return a, nil
}

func kindToken(k Kind) string {
	switch k {
	case ScaledObject:
		return "so"
	case ScaledJob:
		return "sj"
	}
	return escape(string(k)) // never parses back: Validate rejects such a message first
}

func parseKindToken(tok string) (Kind, error) {
	switch tok {
	case "so":
		return ScaledObject, nil
	case "sj":
		return ScaledJob, nil
	}
	return "", fmt.Errorf("kind token %q: want so or sj", tok)
}

func parseIndex(tok string) (int, error) {
	n, err := strconv.Atoi(tok)
	if err != nil || n < 0 || strconv.Itoa(n) != tok {
		return 0, fmt.Errorf("trigger index %q: want a non-negative integer without leading zeros", tok)
	}
	return n, nil
}

// escape makes s one subject token and a bucket key part: letters, digits and '-' stay, every
// other byte (Kubernetes names may hold '.') becomes _XX in upper-case hex, and "" becomes "_".
func escape(s string) string {
	if s == "" {
		return "_"
	}
	var b strings.Builder
	for _, c := range []byte(s) {
		if isPlain(c) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "_%02X", c)
	}
	return b.String()
}

func unescape(tok string) (string, error) {
	if tok == "_" {
		return "", nil
	}
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c != '_' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(tok) {
			return "", fmt.Errorf("token %q: truncated escape", tok)
		}
		n, err := strconv.ParseUint(tok[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("token %q: bad escape %q", tok, tok[i:i+3])
		}
		b.WriteByte(byte(n))
		i += 2
	}
	s := b.String()
	if escape(s) != tok {
		return "", fmt.Errorf("token %q: not in canonical form (want %q)", tok, escape(s))
	}
	return s, nil
}

func isPlain(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-'
}
