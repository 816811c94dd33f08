//! The project's manifests on a real API server: the CRDs in `crds/` install and become
//! Established, every example in `examples/` is accepted, every manifest in `e2e/invalid/` is
//! refused with its expected message, and `kubectl explain` shows the field docs.

use std::collections::BTreeSet;
use std::path::PathBuf;

use cwo_e2e::repo_root;

use crate::corpus;

/// The kinds DESIGN.md defines, and the cluster-scoped AWSAccount that grants namespaces the
/// AWS accounts they use; each has one CRD file in `crds/`.
const KINDS: [&str; 8] = [
    "AWSAccount",
    "Alarm",
    "CompositeAlarm",
    "LogDestination",
    "LogSubscription",
    "MetricFilter",
    "MetricStream",
    "SamplingRule",
];
/// The issue asks for at least this many invalid manifests; the corpus only grows.
const MIN_INVALID_MANIFESTS: usize = 40;

fn dir(path: &str) -> PathBuf {
    repo_root().join(path)
}

#[test]
fn every_crd_installs_and_becomes_established() {
    let crds = corpus::installed_crds(&dir("crds")).unwrap();
    let kinds: BTreeSet<&str> = crds.iter().map(|c| c.kind.as_str()).collect();
    assert_eq!(
        kinds,
        KINDS.into_iter().collect(),
        "crds/ must hold one CRD per kind"
    );
    for crd in &crds {
        assert_eq!(crd.group, "cwo.dev", "{}", crd.path.display());
    }
}

#[test]
fn every_example_passes_server_side_dry_run() {
    corpus::examples_accepted(&dir("crds"), &dir("examples")).unwrap();
    // Examples kept out of the kustomization (a Namespace, which kustomize would rename).
    corpus::examples_accepted(&dir("crds"), &dir("examples/accounts")).unwrap();
}

#[test]
fn every_invalid_manifest_is_refused_with_its_expected_message() {
    let n = corpus::invalid_refused(&dir("crds"), &dir("e2e/invalid")).unwrap();
    assert!(
        n >= MIN_INVALID_MANIFESTS,
        "e2e/invalid/ holds {n} manifests; at least {MIN_INVALID_MANIFESTS} expected"
    );
}

#[test]
fn kubectl_explain_shows_field_docs_of_every_kind() {
    corpus::explain_shows_docs(&dir("crds"), &[("Alarm", "period")]).unwrap();
}
