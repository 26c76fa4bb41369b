package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"k8s.io/client-go/rest"

	"ebb.dev/test/proc"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Config says what to start. The zero value starts etcd and kube-apiserver in a new temp dir.
type Config struct {
	// ControllerManager also starts kube-controller-manager with its default controllers
	// (deployment, replicaset, job, garbage collector, horizontal pod autoscaler, …).
	ControllerManager bool
	// Dir holds certificates, data and logs; a new temp dir when empty. Stop removes a temp dir.
	Dir string
	// Binaries overrides DefaultBinaries.
	Binaries *Binaries
	// ExtraAPIServerArgs and ExtraControllerManagerArgs are appended to the defaults, so a
	// later flag overrides an earlier one (e.g. --horizontal-pod-autoscaler-sync-period=5s).
	ExtraAPIServerArgs         []string
	ExtraControllerManagerArgs []string
	// ReadyTimeout bounds the whole start; 60 s when zero (a cold 2-core machine is slow).
	ReadyTimeout time.Duration
}

// Cluster is a running control plane.
type Cluster struct {
	// Dir holds the certificates, etcd data, logs and the kubeconfig.
	Dir string
	// Kubeconfig is the path of an admin (system:masters) kubeconfig.
	Kubeconfig string
	// RESTConfig is the same admin identity, for clients in this process.
	RESTConfig *rest.Config
	// APIServerURL is https://127.0.0.1:<port>.
	APIServerURL string
	// FrontProxyCA verifies requests that the aggregation layer proxies to extension servers.
	FrontProxyCAFile string
	// ServingCAFile verifies the API server's certificate.
	ServingCAFile string

	procs   []*proc.Process // in start order
	tempDir bool
}

// Start brings up the control plane and returns once it serves (and, with ControllerManager,
// once the controller manager is healthy). On error nothing is left running.
func Start(ctx context.Context, cfg Config) (c *Cluster, err error) {
	timeout := cfg.ReadyTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	bins, err := binaries(cfg)
	if err != nil {
		return nil, err
	}
	c = &Cluster{Dir: cfg.Dir}
	if c.Dir == "" {
		if c.Dir, err = os.MkdirTemp("", "ebb-cluster-"); err != nil {
			return nil, fmt.Errorf("start cluster: %w", err)
		}
		c.tempDir = true
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, c.Stop())
		}
	}()

	certs, err := newPKI(mkdir(c.Dir, "pki"))
	if err != nil {
		return nil, err
	}
	ports, err := proc.FreePorts(4)
	if err != nil {
		return nil, err
	}
	etcdPort, etcdPeerPort, apiPort, kcmPort := ports[0], ports[1], ports[2], ports[3]
	c.APIServerURL = "https://127.0.0.1:" + strconv.Itoa(apiPort)
	c.FrontProxyCAFile = certs.FrontProxyCA.CertFile
	c.ServingCAFile = certs.ServingCA.CertFile

	if err := c.start(bins.Etcd, "etcd", etcdArgs(c.Dir, etcdPort, etcdPeerPort)); err != nil {
		return nil, err
	}
	apiArgs := append(apiServerArgs(certs, etcdPort, apiPort), cfg.ExtraAPIServerArgs...)
	if err := c.start(bins.KubeAPIServer, "kube-apiserver", apiArgs); err != nil {
		return nil, err
	}
	if err := c.writeKubeconfigs(certs); err != nil {
		return nil, err
	}
	if err := c.waitHealthy(ctx, c.APIServerURL+"/readyz", c.adminTLS(certs)); err != nil {
		return nil, err
	}
	if cfg.ControllerManager {
		kcmArgs := append(controllerManagerArgs(c.Dir, certs, kcmPort), cfg.ExtraControllerManagerArgs...)
		if err := c.start(bins.KubeControllerManager, "kube-controller-manager", kcmArgs); err != nil {
			return nil, err
		}
		// The controller manager serves a self-signed certificate; only its health is read here.
		kcmHealth := fmt.Sprintf("https://127.0.0.1:%d/healthz", kcmPort)
		if err := c.waitHealthy(ctx, kcmHealth, &tls.Config{InsecureSkipVerify: true}); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func binaries(cfg Config) (Binaries, error) {
	if cfg.Binaries != nil {
		return *cfg.Binaries, cfg.Binaries.check()
	}
	return DefaultBinaries()
}

func (c *Cluster) start(binary, name string, args []string) error {
	cmd := exec.Command(binary, args...)
	cmd.Dir = c.Dir
	p, err := proc.Start(name, cmd, filepath.Join(c.Dir, name+".log"))
	if err != nil {
		return err
	}
	c.procs = append(c.procs, p)
	return nil
}

// Stop ends every process, newest first, and removes the directory if Start created it.
func (c *Cluster) Stop() error {
	var errs []error
	for i := len(c.procs) - 1; i >= 0; i-- {
		errs = append(errs, c.procs[i].Stop(syscall.SIGTERM, 10*time.Second))
	}
	c.procs = nil
	if c.tempDir {
		errs = append(errs, os.RemoveAll(c.Dir))
	}
	return errors.Join(errs...)
}

// Logs lists each process's log file, by process name.
func (c *Cluster) Logs() map[string]string {
	logs := make(map[string]string, len(c.procs))
	for _, p := range c.procs {
		logs[p.Name()] = p.LogPath()
	}
	return logs
}

// waitHealthy polls url until it answers 200, a process dies, or ctx ends.
func (c *Cluster) waitHealthy(ctx context.Context, url string, tlsConfig *tls.Config) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
	defer client.CloseIdleConnections()
	var last error
	for {
		for _, p := range c.procs {
			if done, err := p.Exited(); done {
				return err
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w (last: %v)", url, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Cluster) adminTLS(certs *pki) *tls.Config {
	roots := x509.NewCertPool()
	roots.AddCert(certs.ServingCA.cert)
	admin, _ := tls.X509KeyPair(certs.Admin.certPEM, certs.Admin.keyPEM)
	return &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{admin}}
}

// writeKubeconfigs writes the admin kubeconfig (c.Kubeconfig) and the controller manager's.
func (c *Cluster) writeKubeconfigs(certs *pki) error {
	c.Kubeconfig = filepath.Join(c.Dir, "kubeconfig")
	if err := writeKubeconfig(c.Kubeconfig, c.APIServerURL, certs.ServingCA, certs.Admin, "admin"); err != nil {
		return err
	}
	kcm := filepath.Join(c.Dir, "controller-manager.kubeconfig")
	if err := writeKubeconfig(kcm, c.APIServerURL, certs.ServingCA, certs.ControllerMgr, "controller-manager"); err != nil {
		return err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	// Tests create many objects quickly; client-side throttling would only slow them down.
	cfg.QPS, cfg.Burst = 200, 400
	c.RESTConfig = cfg
	return nil
}

func writeKubeconfig(path, server string, ca, user *keyPair, userName string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["ebb"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca.certPEM}
	cfg.AuthInfos[userName] = &clientcmdapi.AuthInfo{ClientCertificateData: user.certPEM, ClientKeyData: user.keyPEM}
	cfg.Contexts["ebb"] = &clientcmdapi.Context{Cluster: "ebb", AuthInfo: userName, Namespace: "default"}
	cfg.CurrentContext = "ebb"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return nil
}

func mkdir(parts ...string) string {
	dir := filepath.Join(parts...)
	_ = os.MkdirAll(dir, 0o700)
	return dir
}
