// Package cluster runs a real Kubernetes control plane on loopback: etcd, kube-apiserver (RBAC,
// the aggregation layer, service-account tokens) and optionally kube-controller-manager, built
// from pinned sources by hack/kube-binaries.sh. Tests start one per package (see clustertest);
// `ebb-cluster up` starts one for people and for `make run`. There is no kubelet: Pods are
// created and scheduled nowhere, and never run.
package cluster
