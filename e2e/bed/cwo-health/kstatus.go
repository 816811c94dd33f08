package main

import (
	"fmt"

	fluxstatus "github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// computeKstatus computes kstatus with the upstream library, sigs.k8s.io/cli-utils, and with
// Flux's fork of it, which Flux's kustomize-controller and Helm 4's --wait are built with. The
// two must agree: a difference means a GitOps tool would see something these tests do not.
func computeKstatus(obj *unstructured.Unstructured) (*result, error) {
	upstream, err := status.Compute(obj)
	if err != nil {
		return nil, fmt.Errorf("kstatus: %w", err)
	}
	fork, err := fluxstatus.Compute(obj)
	if err != nil {
		return nil, fmt.Errorf("kstatus (github.com/fluxcd/cli-utils): %w", err)
	}
	if string(upstream.Status) != string(fork.Status) || upstream.Message != fork.Message {
		return nil, fmt.Errorf(
			"sigs.k8s.io/cli-utils says %s (%q) but github.com/fluxcd/cli-utils says %s (%q)",
			upstream.Status, upstream.Message, fork.Status, fork.Message)
	}
	return &result{Status: string(upstream.Status), Message: upstream.Message}, nil
}
