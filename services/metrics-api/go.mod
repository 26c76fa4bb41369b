module ebb.dev/services/metrics-api

go 1.26.0
