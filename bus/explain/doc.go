// Package explain says why a ScaledObject or ScaledJob has its replica count and what will
// change it next, from what the bus holds (the last reading of each trigger, the last decision,
// the last actions) and, when the caller read them from the cluster, the object's spec and
// status. It only reads; flag parsing and the cluster client live in cmd/ebb.
package explain
