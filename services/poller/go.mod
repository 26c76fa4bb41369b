module ebb.dev/services/poller

go 1.26.0
