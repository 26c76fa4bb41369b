// Package deploy renders ebb's kustomize overlays (deploy/kustomize) as `kubectl apply -k` would,
// with fixed test bus passwords, and reads from them what other tests need, such as a
// service's container arguments. Its tests check the rendered manifests, apply them to a real
// API server and check each ServiceAccount's rights; it never deploys anything that runs.
package deploy
