package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/invopop/jsonschema"

	"ebb.dev/schemas/msg"
)

func main() {
	out := flag.String("out", "jsonschema", "directory to write the schema files into")
	flag.Parse()
	if err := write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	files, err := generate(".")
	if err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("write schema: %w", err)
		}
	}
	return nil
}

// generate returns each message's schema file by name (reading.v1.json, ...); src is the
// directory of package msg, whose comments become descriptions.
func generate(src string) (map[string][]byte, error) {
	var r jsonschema.Reflector
	if err := r.AddGoComments("ebb.dev/schemas/msg", src); err != nil {
		return nil, fmt.Errorf("read comments of package msg: %w", err)
	}
	files := map[string][]byte{}
	for _, m := range []msg.Message{msg.Reading{}, msg.Decision{}, msg.Action{}} {
		s := r.Reflect(m)
		s.ID = jsonschema.ID("https://" + m.SchemaID())
		s.Title = m.SchemaID()
		data, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("encode schema %s: %w", m.SchemaID(), err)
		}
		files[FileName(m.SchemaID())] = append(data, '\n')
	}
	return files, nil
}

// FileName maps ebb.dev/reading/v1 to reading.v1.json.
func FileName(schemaID string) string {
	return strings.ReplaceAll(strings.TrimPrefix(schemaID, "ebb.dev/"), "/", ".") + ".json"
}
