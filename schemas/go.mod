module ebb.dev/schemas

go 1.26.0
