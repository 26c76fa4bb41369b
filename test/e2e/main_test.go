package e2e

import (
	"fmt"
	"os"
	"testing"
)

// ebbBinary is built once for the package by TestMain.
var ebbBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ebb-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ebbBinary, err = BuildEBB(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
