// Command cwo-health computes what GitOps tools see of one Kubernetes object:
//
//	cwo-health kstatus [FILE]         kstatus, as Flux's health checks and `helm install --wait`
//	                                  (Helm 4) compute it
//	cwo-health argocd SCRIPT [FILE]   an Argo CD health script (Lua), run the way Argo CD runs one
//
// FILE (or standard input) holds one object as JSON, as `kubectl get -o json` prints it. The
// result is one line of JSON on standard output: {"status": "...", "message": "..."}. A script
// that fails, or an object that cannot be read, exits non-zero with the error on standard error.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// result is what both modes print.
type result struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

const usage = `usage:
  cwo-health kstatus [FILE]
  cwo-health argocd SCRIPT [FILE]
FILE (default: standard input) holds one object as JSON.`

func main() {
	r, err := run(os.Args[1:], os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cwo-health: %v\n", err)
		os.Exit(1)
	}
	out, err := json.Marshal(r)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cwo-health: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}

func run(args []string, stdin io.Reader) (*result, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("no mode given\n%s", usage)
	}
	switch mode, rest := args[0], args[1:]; mode {
	case "kstatus":
		if len(rest) > 1 {
			return nil, fmt.Errorf("kstatus takes at most one FILE\n%s", usage)
		}
		obj, err := readObject(rest, stdin)
		if err != nil {
			return nil, err
		}
		return computeKstatus(obj)
	case "argocd":
		if len(rest) < 1 || len(rest) > 2 {
			return nil, fmt.Errorf("argocd takes SCRIPT and at most one FILE\n%s", usage)
		}
		script, err := os.ReadFile(rest[0])
		if err != nil {
			return nil, err
		}
		obj, err := readObject(rest[1:], stdin)
		if err != nil {
			return nil, err
		}
		return runArgoHealthScript(obj, string(script))
	default:
		return nil, fmt.Errorf("unknown mode %q\n%s", mode, usage)
	}
}

// readObject reads one object from the file named in args, else from stdin, decoding numbers
// the way client-go's unstructured decoder does (integers as int64), as both kstatus and Argo
// CD see live objects.
func readObject(args []string, stdin io.Reader) (*unstructured.Unstructured, error) {
	var data []byte
	var err error
	if len(args) == 1 && args[0] != "-" {
		data, err = os.ReadFile(args[0])
	} else {
		data, err = io.ReadAll(stdin)
	}
	if err != nil {
		return nil, err
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("reading the object: %w", err)
	}
	return obj, nil
}
