// Package controller holds what the ScaledObject and ScaledJob reconcilers share: the watch
// filter that ignores status-only updates and the Event reasons ebb reports. The reconcilers
// themselves live in the subpackages, one per kind.
package controller
