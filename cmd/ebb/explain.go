package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ebb.dev/bus"
	"ebb.dev/bus/explain"
	"ebb.dev/bus/tap"
	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
)

func runExplain(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ebb explain [flags] <namespace>/<name>")
		fs.PrintDefaults()
	}
	shared := addBusFlags(fs, bus.RoleTap)
	var cfg explain.Config
	var kind, output, kubeconfig string
	var utc bool
	fs.StringVar(&kind, "kind", "so", "ScaledObject (so) or ScaledJob (sj)")
	fs.StringVar(&kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig to read the object's spec and status from (default $KUBECONFIG); empty: the bus alone")
	fs.IntVar(&cfg.Actions, "actions", explain.DefaultActions, "how many of the last actions to show")
	fs.DurationVar(&cfg.ActionsSince, "actions-since", explain.DefaultActionsSince, "how far back to look for actions (the last one is shown however old)")
	for _, name := range []string{"output", "o"} {
		fs.StringVar(&output, name, "text", "text or json")
	}
	fs.BoolVar(&utc, "utc", false, "print times in UTC, not local time")
	// The object may stand before, between or after the flags.
	var objects []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		objects, args = append(objects, fs.Arg(0)), fs.Args()[1:]
	}
	if len(objects) != 1 {
		return errors.New("want one object: ebb explain <namespace>/<name> [flags]")
	}
	k, err := tap.ParseKind(kind)
	if err != nil {
		return err
	}
	if k == "" {
		k = msg.ScaledObject
	}
	if cfg.Object, err = explain.ParseObject(objects[0], k); err != nil {
		return err
	}
	p := tap.Printer{Output: tap.Output(output), Location: time.Local}
	if p.Output != tap.Text && p.Output != tap.JSON {
		return fmt.Errorf("-output %q: want text or json", output)
	}
	if utc {
		p.Location = time.UTC
	}
	conn, err := shared.connect(ctx, os.Stderr)
	if err != nil {
		return err
	}
	defer conn.Close()
	now := time.Now()
	e, err := explain.Gather(ctx, conn, cfg, now)
	if err != nil {
		return err
	}
	if e.Cluster, err = readCluster(ctx, kubeconfig, cfg.Object); err != nil {
		return err
	}
	return explain.Write(stdout, explain.Explain(e, now), p)
}

// readCluster reads the object from the cluster; without a kubeconfig it reads nothing.
func readCluster(ctx context.Context, kubeconfig string, ref msg.ObjectRef) (explain.Cluster, error) {
	if kubeconfig == "" {
		return explain.Cluster{}, nil
	}
	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return explain.Cluster{}, fmt.Errorf("kubeconfig: %w", err)
	}
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return explain.Cluster{}, err
	}
	c, err := client.New(rc, client.Options{Scheme: scheme})
	if err != nil {
		return explain.Cluster{}, fmt.Errorf("cluster client: %w", err)
	}
	out := explain.Cluster{Read: true}
	var obj client.Object = &v1alpha1.ScaledObject{}
	if ref.Kind == msg.ScaledJob {
		obj = &v1alpha1.ScaledJob{}
	}
	switch err := c.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, obj); {
	case apierrors.IsNotFound(err):
		return out, nil
	case err != nil:
		return out, fmt.Errorf("read %s %s/%s: %w", ref.Kind, ref.Namespace, ref.Name, err)
	}
	switch o := obj.(type) {
	case *v1alpha1.ScaledObject:
		out.ScaledObject = o
	case *v1alpha1.ScaledJob:
		out.ScaledJob = o
	}
	return out, nil
}
