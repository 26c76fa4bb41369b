// Package e2e runs ebb as its users do: every service a separate process of the built ebb
// binary, all talking over one bus process with authentication on, against the local control
// plane with the real HPA. Stack starts that world for a test (on test/stack's processes);
// TestEndToEnd runs every scenario on one Stack at once.
package e2e
