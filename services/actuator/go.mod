module ebb.dev/services/actuator

go 1.26.0
