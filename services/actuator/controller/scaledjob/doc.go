// Package scaledjob reconciles ScaledJobs with the cluster: it deletes finished Jobs beyond the
// history limits, rolls out spec changes to running Jobs per the rollout strategy, and writes
// the status fields that follow from the spec. Jobs are created by package apply, as decided.
package scaledjob
