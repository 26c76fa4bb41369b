// Package schemas is the root of ebb's wire contracts: the keda.sh/v1alpha1 API types, trigger
// metadata and the bus messages. Its packages hold data and parsers only, no clients and no I/O,
// so every service and the admission webhook can share them.
package schemas
