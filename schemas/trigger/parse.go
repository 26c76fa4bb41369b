package trigger

import (
	"reflect"
	"slices"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validator is implemented by metadata structs with rules across parameters. It runs only
// when every parameter parsed, so its errors never repeat a conversion error.
type validator interface {
	validate(c *check) field.ErrorList
}

// check gives validators the paths of parameters and whether each was set anywhere (an
// Unresolved parameter is set but reads as its zero value).
type check struct {
	trigger    *field.Path
	meta       *field.Path
	set        map[string]bool
	metricType autoscalingv2.MetricTargetType
}

func (c *check) path(name string) *field.Path { return c.meta.Child(name) }
func (c *check) has(name string) bool         { return c.set[name] }

// parse fills a new value of s.typ from p; path is the trigger's own path (spec.triggers[i]).
func (s *structSpec) parse(p Params, path *field.Path) (reflect.Value, field.ErrorList) {
	out := reflect.New(s.typ).Elem()
	c := &check{trigger: path, meta: path.Child("metadata"), set: map[string]bool{}, metricType: p.MetricType}
	var errs field.ErrorList
	for i := range s.fields {
		f := &s.fields[i]
		l := p.find(f)
		if !l.found {
			errs = append(errs, s.absent(f, l, p, c, out)...)
			continue
		}
		c.set[f.name()] = true
		if l.unknown {
			continue
		}
		v, err := s.value(f, l, path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out.FieldByIndex(f.index).Set(v)
	}
	if len(errs) > 0 {
		return out, errs
	}
	if v, ok := out.Interface().(validator); ok {
		errs = v.validate(c)
	}
	return out, errs
}

// absent handles a parameter found nowhere: the default, the zero value or an error.
func (s *structSpec) absent(f *fieldSpec, l lookup, p Params, c *check, out reflect.Value) field.ErrorList {
	if l.missingEnv != "" {
		return field.ErrorList{field.Invalid(c.path(l.missingEnv), p.Metadata[l.missingEnv],
			"names an environment variable the target container does not set")}
	}
	switch {
	case f.hasDef:
		v, _ := convert(out.FieldByIndex(f.index).Type(), f.def) // checked by compile
		out.FieldByIndex(f.index).Set(v)
	case !f.optional:
		return field.ErrorList{field.Required(c.path(f.name()), requiredDetail(f))}
	}
	return nil
}

// value converts and checks one found parameter.
func (s *structSpec) value(f *fieldSpec, l lookup, path *field.Path) (reflect.Value, *field.Error) {
	at := path.Child("metadata", l.key)
	if l.via == fromAuth {
		at = path.Child("authenticationRef").Key(l.key)
	}
	var shown any = l.value
	if f.secret {
		shown = field.OmitValueType{}
	}
	v, detail := convert(s.typ.FieldByIndex(f.index).Type, l.value)
	switch {
	case detail != "":
		return v, field.Invalid(at, shown, detail)
	case len(f.enum) > 0 && !slices.Contains(f.enum, l.value):
		return v, field.NotSupported(at, shown, f.enum)
	case f.role == roleTarget && number(v) <= 0:
		return v, field.Invalid(at, shown, "must be greater than 0")
	}
	return v, nil
}

// requiredDetail names every place the parameter could have come from.
func requiredDetail(f *fieldSpec) string {
	if len(f.from) == 1 && f.from[0] == fromMeta {
		return ""
	}
	var where []string
	for _, src := range f.from {
		switch src {
		case fromMeta:
			where = append(where, f.name())
		case fromEnv:
			where = append(where, f.name()+"FromEnv")
		case fromAuth:
			where = append(where, "TriggerAuthentication parameter "+f.name())
		}
	}
	if len(where) == 1 {
		return "set " + where[0]
	}
	return "set " + strings.Join(where[:len(where)-1], ", ") + " or " + where[len(where)-1]
}
