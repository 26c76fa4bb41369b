package jsonschema

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"

	sjs "github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed *.json
var files embed.FS

// FS returns the schema files, named like reading.v1.json.
func FS() fs.FS { return files }

// Validator checks encoded messages against the schema their schema field names.
type Validator struct {
	bySchema map[string]*sjs.Schema
}

// NewValidator compiles every schema file.
func NewValidator() (*Validator, error) {
	names, err := fs.Glob(files, "*.json")
	if err != nil {
		return nil, fmt.Errorf("list schema files: %w", err)
	}
	c := sjs.NewCompiler()
	c.AssertFormat()
	v := &Validator{bySchema: map[string]*sjs.Schema{}}
	for _, name := range names {
		data, err := files.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		doc, err := sjs.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if id == "" {
			return nil, fmt.Errorf("%s: no $id", name)
		}
		if err := c.AddResource(id, doc); err != nil {
			return nil, fmt.Errorf("add %s: %w", name, err)
		}
		s, err := c.Compile(id)
		if err != nil {
			return nil, fmt.Errorf("compile %s: %w", name, err)
		}
		v.bySchema[strings.TrimPrefix(id, "https://")] = s
	}
	return v, nil
}

// Validate checks data against the schema named by its schema field.
func (v *Validator) Validate(data []byte) error {
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("validate message: %w", err)
	}
	s, ok := v.bySchema[head.Schema]
	if !ok {
		return fmt.Errorf("validate message: no schema file for %q", head.Schema)
	}
	doc, err := sjs.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("validate %s: %w", head.Schema, err)
	}
	if err := s.Validate(doc); err != nil {
		return fmt.Errorf("validate %s: %w", head.Schema, err)
	}
	return nil
}

// Schemas lists the schema identifiers the validator knows.
func (v *Validator) Schemas() []string {
	ids := make([]string, 0, len(v.bySchema))
	for id := range v.bySchema {
		ids = append(ids, id)
	}
	return ids
}
