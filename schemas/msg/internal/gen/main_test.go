package main

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the checked-in schema files")

// The checked-in schema files must be exactly what the Go types generate.
func TestSchemaFilesMatchTypes(t *testing.T) {
	t.Chdir("../..") // package msg, where go generate runs
	files, err := generate(".")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := write("jsonschema"); err != nil {
			t.Fatal(err)
		}
	}
	onDisk, err := filepath.Glob("jsonschema/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range onDisk {
		if _, ok := files[filepath.Base(path)]; !ok {
			t.Errorf("%s is checked in but no message type generates it", path)
		}
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("jsonschema", name))
		if err != nil {
			t.Errorf("read %s: %v (run go generate ./msg in schemas)", name, err)
			continue
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("jsonschema/%s is stale; run go generate ./msg in schemas (-generated +checked in):\n%s", name, diff)
		}
	}
}

func TestFileName(t *testing.T) {
	if got, want := FileName("ebb.dev/decision/v1"), "decision.v1.json"; got != want {
		t.Errorf("FileName = %q, want %q", got, want)
	}
}
