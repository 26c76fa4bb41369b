// Package deploy renders ebb's kustomize overlays (deploy/kustomize) as `kubectl apply -k` would,
// with fixed test bus passwords, and gives other suites what they need from them: a service's
// container arguments (Args), the ServiceAccount it runs as, and that account's rights on a
// test control plane (ApplyRBAC, Kubeconfig). It never starts anything that runs.
package deploy
