package trigger

//go:generate go run ./internal/scalerdoc -doc ../../docs/scalers.md
