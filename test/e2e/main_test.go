package e2e

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"

	"ebb.dev/test/stack"
)

// ebbBinary is built once for the package by TestMain.
var ebbBinary string

// parallel is how many scenarios run at once unless -test.parallel says otherwise: they spend
// their time waiting on controllers and polls, not on the CPU, so GOMAXPROCS (the default)
// would only make the suite slower.
const parallel = "16"

func TestMain(m *testing.M) {
	flag.Parse()
	if !flagSet("test.parallel") {
		if err := flag.Set("test.parallel", parallel); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	dir, err := os.MkdirTemp("", "ebb-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ebbBinary, err = stack.Build(context.Background(), dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
