package trigger

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// role marks the field shared code reads without knowing the scaler.
type role int

const (
	roleNone role = iota
	roleTarget
	roleActivation
)

// fieldSpec is one tagged field of a metadata struct.
type fieldSpec struct {
	index    []int    // path through embedded structs
	names    []string // the parameter name, then its aliases
	def      string
	hasDef   bool
	optional bool
	enum     []string
	secret   bool
	from     []source
	role     role
}

func (f *fieldSpec) name() string { return f.names[0] }

// structSpec is the compiled form of one metadata struct.
type structSpec struct {
	typ    reflect.Type
	fields []fieldSpec
}

var (
	quantityType        = reflect.TypeFor[resource.Quantity]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// compile reads the tags of t and checks that every default converts, so a bad tag fails at
// registration rather than on a user's manifest.
func compile(t reflect.Type) (*structSpec, error) {
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("metadata type %s is not a struct", t)
	}
	s := &structSpec{typ: t}
	var roles [3]int
	for _, sf := range reflect.VisibleFields(t) {
		tag, ok := sf.Tag.Lookup("trigger")
		if !ok {
			continue
		}
		f, err := parseTag(tag)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name(), sf.Name, err)
		}
		f.index = sf.Index
		if !convertible(sf.Type) {
			return nil, fmt.Errorf("%s.%s: unsupported field type %s", t.Name(), sf.Name, sf.Type)
		}
		if f.hasDef {
			if _, detail := convert(sf.Type, f.def); detail != "" {
				return nil, fmt.Errorf("%s.%s: default %q: %s", t.Name(), sf.Name, f.def, detail)
			}
		}
		if f.role != roleNone && !numeric(sf.Type) {
			return nil, fmt.Errorf("%s.%s: target and activation fields must be numbers", t.Name(), sf.Name)
		}
		roles[f.role]++
		s.fields = append(s.fields, f)
	}
	if roles[roleTarget] > 1 || roles[roleActivation] > 1 {
		return nil, fmt.Errorf("%s: at most one target and one activation field", t.Name())
	}
	return s, nil
}

func parseTag(tag string) (fieldSpec, error) {
	parts := strings.Split(tag, ",")
	f := fieldSpec{names: []string{parts[0]}, from: []source{fromMeta}}
	if parts[0] == "" {
		return f, fmt.Errorf("tag %q has no parameter name", tag)
	}
	for _, opt := range parts[1:] {
		key, val, hasVal := strings.Cut(opt, "=")
		switch {
		case key == "alias" && hasVal:
			f.names = append(f.names, strings.Split(val, "|")...)
		case key == "default" && hasVal:
			f.def, f.hasDef = val, true
		case key == "enum" && hasVal:
			f.enum = strings.Split(val, "|")
		case key == "from" && hasVal:
			f.from = nil
			for _, s := range strings.Split(val, "|") {
				src := source(s)
				if src != fromMeta && src != fromEnv && src != fromAuth {
					return f, fmt.Errorf("unknown source %q", s)
				}
				f.from = append(f.from, src)
			}
		case opt == "optional":
			f.optional = true
		case opt == "secret":
			f.secret = true
		case opt == "target":
			f.role = roleTarget
		case opt == "activation":
			f.role = roleActivation
		default:
			return f, fmt.Errorf("unknown tag option %q", opt)
		}
	}
	if f.hasDef && len(f.enum) > 0 && !slices.Contains(f.enum, f.def) {
		return f, fmt.Errorf("default %q is not in enum", f.def)
	}
	return f, nil
}

func numeric(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Float64:
		return true
	}
	return t == quantityType
}

func convertible(t reflect.Type) bool {
	if t == quantityType || reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int32, reflect.Int64, reflect.Float64:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.String
	case reflect.Map:
		return t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.String
	}
	return false
}
