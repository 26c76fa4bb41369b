// Package test holds ebb's end-to-end suite and the local Kubernetes control plane it runs on
// (package cluster): real etcd, kube-apiserver and kube-controller-manager on loopback.
package test
