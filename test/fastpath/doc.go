// Package fastpath proves ebb's fast scale-up path against the real HPA: the services run as
// separate ebb processes on one bus (package stack) over the local control plane with
// kube-controller-manager, and each scenario checks that the count ebb writes at once is the
// one the HPA keeps. It holds tests only.
package fastpath
