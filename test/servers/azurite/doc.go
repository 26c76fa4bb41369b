// Package azurite starts Azurite's queue service (npm azurite@3.35.0) for tests, on 127.0.0.1
// and a free port, in memory, stopped by its PID. It does not install Azurite: `make deps` puts
// it in $EBB_CACHE/npm (hack/npm-deps.sh), where Start looks for it.
package azurite
