module ebb.dev/bus

go 1.26.0
