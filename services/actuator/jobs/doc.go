// Package jobs builds the Jobs a ScaledJob creates and picks the ones to delete: finished Jobs
// beyond the history limits and, on a spec change, Jobs of an older generation. It is pure:
// the callers list, create and delete.
package jobs
