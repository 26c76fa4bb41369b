package trigger

import (
	"reflect"
)

// Param describes one parameter of a trigger type as its struct tag declares it, for
// documentation and tools; the parser itself reads the compiled tags.
type Param struct {
	Name       string
	Aliases    []string
	Default    string
	HasDefault bool
	Optional   bool
	Enum       []string
	Secret     bool     // never printed
	From       []string // where the value may come from, in lookup order: meta, env, auth
	Target     bool     // the HPA target of the trigger's metric
	Activation bool     // the activation threshold
	Index      []int    // the field's index path in Description.Type (through embedded structs)
}

// Description is one registered trigger type.
type Description struct {
	Kind   string
	Type   reflect.Type // the metadata struct, e.g. trigger.RabbitMQ
	Params []Param      // in declaration order
	// MetricKind is the scaler's name in its external metric names, s<i>-<MetricKind>-<detail>;
	// empty for cpu and memory, whose metrics are named after the resource.
	MetricKind string
}

// Describe returns the description of kind, and false when kind is not registered.
func (r *Registry) Describe(kind string) (Description, bool) {
	s, ok := r.kinds[kind]
	if !ok {
		return Description{}, false
	}
	d := Description{Kind: kind, Type: s.typ, MetricKind: kind}
	switch m := reflect.New(s.typ).Elem().Interface().(type) {
	case ResourceMetric:
		d.MetricKind = ""
	case metricKinder:
		d.MetricKind = m.metricKind()
	}
	for _, f := range s.fields {
		p := Param{Name: f.name(), Aliases: f.names[1:], Default: f.def, HasDefault: f.hasDef, Optional: f.optional,
			Enum: f.enum, Secret: f.secret, Target: f.role == roleTarget, Activation: f.role == roleActivation, Index: f.index}
		for _, src := range f.from {
			p.From = append(p.From, string(src))
		}
		d.Params = append(d.Params, p)
	}
	return d, true
}
