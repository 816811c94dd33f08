//! The directory checks run over a fixture CRD of the harness's own, so they are known to work
//! (and to fail when they should) whatever the project's directories hold.

use std::path::PathBuf;

use cwo_e2e::checks;
use cwo_e2e::manifests::InvalidCase;

use crate::corpus::{self, bed};

fn fixture(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/widgets")
        .join(dir)
}

#[test]
fn fixture_crd_becomes_established() {
    let crds = corpus::installed_crds(&fixture("crds")).unwrap();
    assert_eq!(crds.len(), 1);
    assert_eq!(crds[0].kind, "Widget");
}

#[test]
fn fixture_example_passes_server_dry_run() {
    corpus::examples_accepted(&fixture("crds"), &fixture("examples")).unwrap();
}

#[test]
fn fixture_invalid_manifests_are_refused_with_their_messages() {
    let n = corpus::invalid_refused(&fixture("crds"), &fixture("invalid")).unwrap();
    assert_eq!(n, 6);
}

#[test]
fn fixture_field_docs_show_in_kubectl_explain() {
    corpus::explain_shows_docs(&fixture("crds"), &[("Widget", "size")]).unwrap();
}

/// Every directory check fails when pointed at an empty directory, rather than passing having
/// checked nothing; `project_manifests` runs these same checks over `crds/`, `examples/` and
/// `e2e/invalid/`.
#[test]
fn directory_checks_fail_on_an_empty_directory() {
    let empty = tempfile::tempdir().unwrap();
    let crds = fixture("crds");
    let failures = [
        (
            "installing CRDs",
            corpus::installed_crds(empty.path()).map(|_| ()),
        ),
        ("examples", corpus::examples_accepted(&crds, empty.path())),
        (
            "invalid manifests",
            corpus::invalid_refused(&crds, empty.path()).map(|_| ()),
        ),
        (
            "kubectl explain",
            corpus::explain_shows_docs(empty.path(), &[]),
        ),
    ];
    for (what, outcome) in failures {
        let err = outcome.expect_err(what);
        assert!(
            format!("{err:#}").contains("holds no YAML files"),
            "{what}: {err:#}"
        );
    }
}

/// A directory whose only YAML file is a kustomization, which lists manifests and is not one,
/// holds no example: the check fails rather than pass over nothing.
#[test]
fn examples_check_fails_on_a_directory_holding_only_a_kustomization() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(corpus::KUSTOMIZATION),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n",
    )
    .unwrap();
    let err = corpus::examples_accepted(&fixture("crds"), dir.path()).unwrap_err();
    assert!(format!("{err:#}").contains("nothing to check"), "{err:#}");
}

#[test]
fn refusal_check_fails_when_the_message_differs() {
    corpus::installed_crds(&fixture("crds")).unwrap();
    let bed = bed();
    let ns = checks::TestNamespace::create(bed, "cwo-e2e-wrong-message").unwrap();
    let mut case = InvalidCase::read(&fixture("invalid/size-above-maximum.yaml")).unwrap();
    case.expect = "a message the API server never prints".into();
    let err = checks::check_refused(bed, &case, ns.name()).unwrap_err();
    assert!(
        format!("{err:#}").contains("refused, but the output lacks"),
        "{err:#}"
    );
}

#[test]
fn refusal_check_fails_when_a_valid_manifest_is_accepted() {
    corpus::installed_crds(&fixture("crds")).unwrap();
    let bed = bed();
    let ns = checks::TestNamespace::create(bed, "cwo-e2e-accepted").unwrap();
    let path = fixture("examples/widget.yaml");
    let case = InvalidCase {
        documents: vec![std::fs::read_to_string(&path).unwrap()],
        path,
        expect: "anything".into(),
    };
    let err = checks::check_refused(bed, &case, ns.name()).unwrap_err();
    assert!(
        format!("{err:#}").contains("accepted, but must be refused"),
        "{err:#}"
    );
    // The object it created was deleted again.
    let left = bed
        .kubectl(["get", "widgets", "-n", ns.name(), "-o", "name"])
        .unwrap()
        .ok()
        .unwrap();
    assert_eq!(left.stdout.trim(), "", "{left}");
}
