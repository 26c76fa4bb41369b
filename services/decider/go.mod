module ebb.dev/services/decider

go 1.26.0
