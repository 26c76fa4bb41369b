module ebb.dev/cmd/ebb

go 1.26.0
