package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Pinned versions; hack/kube-binaries.sh builds exactly these into the cache.
const (
	EtcdVersion       = "v3.6.16"
	KubernetesVersion = "v1.37.2"
)

// Binaries are the paths of the control-plane executables.
type Binaries struct {
	Etcd                  string
	KubeAPIServer         string
	KubeControllerManager string
}

// DefaultBinaries finds the binaries in the cache hack/kube-binaries.sh fills: $EBB_CACHE, or
// ~/.cache/ebb when it is unset.
func DefaultBinaries() (Binaries, error) {
	cache := os.Getenv("EBB_CACHE")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return Binaries{}, fmt.Errorf("locate cache: %w", err)
		}
		cache = filepath.Join(home, ".cache", "ebb")
	}
	kube := filepath.Join(cache, "bin", "kubernetes-"+KubernetesVersion)
	b := Binaries{
		Etcd:                  filepath.Join(cache, "bin", "etcd-"+EtcdVersion, "etcd"),
		KubeAPIServer:         filepath.Join(kube, "kube-apiserver"),
		KubeControllerManager: filepath.Join(kube, "kube-controller-manager"),
	}
	return b, b.check()
}

func (b Binaries) check() error {
	var errs []error
	for _, path := range []string{b.Etcd, b.KubeAPIServer, b.KubeControllerManager} {
		if _, err := os.Stat(path); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("control-plane binaries missing (build them with `make deps` or hack/kube-binaries.sh): %w", err)
	}
	return nil
}
