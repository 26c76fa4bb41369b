package trigger

import (
	"encoding"
	"math"
	"reflect"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// convert turns a parameter's text into a value of type t. On failure it returns the reason
// (the detail of the field error) and never the value, which may be secret.
func convert(t reflect.Type, text string) (reflect.Value, string) {
	v := reflect.New(t).Elem()
	if t == quantityType {
		q, err := resource.ParseQuantity(strings.TrimSpace(text))
		if err != nil {
			return v, "must be a quantity such as 500m or 1Gi"
		}
		v.Set(reflect.ValueOf(q))
		return v, ""
	}
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		if err := u.UnmarshalText([]byte(text)); err != nil {
			return v, err.Error()
		}
		return v, ""
	}
	switch t.Kind() {
	case reflect.String:
		v.SetString(text)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(text))
		if err != nil {
			return v, "must be true or false"
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, t.Bits())
		if err != nil {
			return v, "must be an integer"
		}
		v.SetInt(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return v, "must be a number"
		}
		v.SetFloat(x)
	case reflect.Slice:
		v.Set(reflect.ValueOf(splitList(text)).Convert(t))
	case reflect.Map:
		m, ok := splitPairs(text)
		if !ok {
			return v, "must be key=value pairs separated by commas"
		}
		v.Set(reflect.ValueOf(m).Convert(t))
	}
	return v, ""
}

// splitList splits a comma-separated list, trimming blanks and dropping empty items.
func splitList(text string) []string {
	var out []string
	for _, item := range strings.Split(text, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// splitPairs reads "k1=v1,k2=v2".
func splitPairs(text string) (map[string]string, bool) {
	out := map[string]string{}
	for _, item := range splitList(text) {
		k, val, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, false
		}
		out[k] = strings.TrimSpace(val)
	}
	return out, true
}

// number reads a numeric field as float64.
func number(v reflect.Value) float64 {
	if q, ok := v.Interface().(resource.Quantity); ok {
		return q.AsApproximateFloat64()
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int32, reflect.Int64:
		return float64(v.Int())
	case reflect.Float64:
		return v.Float()
	}
	return 0
}
