package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"ebb.dev/test/cluster"
	"ebb.dev/test/deploy"
	"ebb.dev/test/stack"
)

// scaledObjects is the resource of ScaledObjects, for the dynamic client.
var scaledObjects = schema.GroupVersionResource{Group: "keda.sh", Version: "v1alpha1", Resource: "scaledobjects"}

// platformOptions say what a scenario needs beyond the defaults.
type platformOptions struct {
	// Services to run; nil runs all of stack.Services.
	Services []string
	// Flags adds command-line flags per process name (after the deployed arguments).
	Flags map[string][]string
	// ClusterConfig adds to the control plane's configuration (Dir and ControllerManager
	// are set by startPlatform).
	ClusterConfig cluster.Config
	// WithoutHPA runs no kube-controller-manager and the actuator with -manage-hpa=false:
	// for scenarios whose HPAs would only measure kube-controller-manager.
	WithoutHPA bool
}

// platform is ebb as a cluster runs it, on this machine: a local control plane with
// kube-controller-manager (so the real HPA; none with WithoutHPA), ebb's CRDs, the bus with a password per role,
// and each service a separate process started with the arguments deploy/kustomize's default
// overlay gives it.
type platform struct {
	cluster *cluster.Cluster
	ebb     *stack.Stack
	kube    kubernetes.Interface
	dynamic dynamic.Interface
}

// startPlatform starts it all under env.Dir; on error it stops what it started.
func startPlatform(ctx context.Context, env Env, opts platformOptions) (p *platform, err error) {
	p = &platform{}
	defer func() {
		if err != nil {
			err = errors.Join(err, p.stop())
		}
	}()
	cc := opts.ClusterConfig
	cc.ControllerManager, cc.Dir = !opts.WithoutHPA, filepath.Join(env.Dir, "cluster")
	if p.cluster, err = cluster.Start(ctx, cc); err != nil {
		return p, fmt.Errorf("control plane: %w", err)
	}
	if err := p.cluster.InstallCRDs(ctx, filepath.Join(env.Repo, "deploy", "kustomize", "base", "crd", "bases")); err != nil {
		return p, err
	}
	p.kube = kubernetes.NewForConfigOrDie(p.cluster.RESTConfig)
	p.dynamic = dynamic.NewForConfigOrDie(p.cluster.RESTConfig)
	// ebb's own namespace holds the actuator's Lease.
	if err := p.namespace(ctx, "ebb-system"); err != nil {
		return p, err
	}
	objs, err := deploy.Objects(filepath.Join(env.Repo, "deploy", "kustomize"), "default")
	if err != nil {
		return p, fmt.Errorf("render deploy/kustomize/overlays/default: %w", err)
	}
	flags := opts.Flags
	if opts.WithoutHPA {
		flags = map[string][]string{"actuator": {"-manage-hpa=false"}}
		for name, fl := range opts.Flags {
			flags[name] = append(flags[name], fl...)
		}
	}
	p.ebb, err = stack.Start(ctx, stack.Config{
		EBB: env.EBB, Dir: filepath.Join(env.Dir, "ebb"), Cluster: p.cluster, Services: opts.Services, Flags: flags,
		Args: func(service string) ([]string, error) { return deploy.ContainerArgs(objs, service) },
	})
	if err != nil {
		return p, fmt.Errorf("ebb: %w", err)
	}
	return p, nil
}

// deploymentAtZero is a workload for ebb to scale: name at 0 replicas. Its pods never run (no
// kubelet here), which changes nothing for external metrics with AverageValue targets.
func deploymentAtZero(ns, name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](0),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: "registry.invalid/" + name + ":1"}}},
			},
		},
	}
}

// namespace creates a namespace; one that exists already is fine.
func (p *platform) namespace(ctx context.Context, name string) error {
	_, err := p.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// stop stops ebb, then the control plane.
func (p *platform) stop() error {
	var errs []error
	if p.ebb != nil {
		errs = append(errs, p.ebb.Stop())
	}
	if p.cluster != nil {
		errs = append(errs, p.cluster.Stop())
	}
	return errors.Join(errs...)
}
