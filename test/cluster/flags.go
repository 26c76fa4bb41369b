package cluster

import (
	"path/filepath"
	"strconv"
)

func etcdArgs(dir string, clientPort, peerPort int) []string {
	client := "http://127.0.0.1:" + strconv.Itoa(clientPort)
	peer := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	return []string{
		"--name=ebb",
		"--data-dir=" + mkdir(dir, "etcd"),
		"--listen-client-urls=" + client,
		"--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer,
		"--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=ebb=" + peer,
		// A throwaway test store: durability buys nothing and fsync costs seconds on slow disks.
		"--unsafe-no-fsync",
		"--log-level=warn",
	}
}

func apiServerArgs(certs *pki, etcdPort, port int) []string {
	return []string{
		"--etcd-servers=http://127.0.0.1:" + strconv.Itoa(etcdPort),
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--tls-cert-file=" + certs.Serving.CertFile,
		"--tls-private-key-file=" + certs.Serving.KeyFile,
		"--client-ca-file=" + certs.ClientCA.CertFile,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + certs.ServiceAcctPub,
		"--service-account-signing-key-file=" + certs.ServiceAcctPriv,
		"--service-cluster-ip-range=10.96.0.0/16",
		"--allow-privileged=true",
		// On loopback there is no node address to publish for the kubernetes Service.
		"--endpoint-reconciler-type=none",
		// The aggregation layer: the API server proxies to extension servers (metrics-api) with the
		// front-proxy certificate, and reaches them through the Service's ExternalName (localhost),
		// not through endpoints, since no Pods run here.
		"--enable-aggregator-routing=false",
		"--requestheader-client-ca-file=" + certs.FrontProxyCA.CertFile,
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + certs.FrontProxy.CertFile,
		"--proxy-client-key-file=" + certs.FrontProxy.KeyFile,
		"--v=1",
	}
}

func controllerManagerArgs(dir string, certs *pki, port int) []string {
	kubeconfig := filepath.Join(dir, "controller-manager.kubeconfig")
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + mkdir(dir, "kube-controller-manager"),
		"--leader-elect=false",
		// Each controller acts as its own service account, so RBAC applies to the HPA controller
		// exactly as in a real cluster (it may read external.metrics.k8s.io, nothing more).
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + certs.ServiceAcctPriv,
		"--root-ca-file=" + certs.ServingCA.CertFile,
		"--controllers=*",
		"--v=1",
	}
}
