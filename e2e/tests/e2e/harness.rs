//! The bed itself behaves like a cluster: the expected Kubernetes version, a working kube-rs
//! client, RBAC authorization, and namespace deletion that completes (kube-controller-manager).

use std::time::{Duration, Instant};

use cwo_e2e::checks::{self, TestNamespace};
use cwo_e2e::{Bed, ControlPlaneConfig};
use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::ListParams;

use crate::corpus::bed;

#[test]
fn local_bed_serves_kubernetes_1_37() {
    let bed = bed();
    let version = checks::server_version(bed).unwrap();
    if bed.is_local() {
        assert!(version.starts_with("v1.37."), "{version}");
    }
}

#[tokio::test]
async fn kube_client_lists_namespaces() {
    let client = bed().client().await.unwrap();
    let namespaces = Api::<Namespace>::all(client)
        .list(&ListParams::default())
        .await
        .unwrap();
    let names: Vec<_> = namespaces
        .items
        .iter()
        .filter_map(|n| n.metadata.name.as_deref())
        .collect();
    assert!(names.contains(&"kube-system"), "{names:?}");
}

#[test]
fn rbac_refuses_a_user_without_bindings() {
    let bed = bed();
    let out = bed
        .kubectl(["get", "configmaps", "-n", "default", "--as=cwo-e2e-nobody"])
        .unwrap();
    assert!(!out.success(), "{out}");
    assert!(out.stderr.contains("Forbidden"), "{out}");
}

#[test]
fn deleting_a_namespace_deletes_its_objects_and_completes() {
    let bed = bed();
    let ns = TestNamespace::create(bed, "cwo-e2e-ns-deletion").unwrap();
    let objects: String = (0..50)
        .map(|i| {
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\ndata:\n  k: v\n---\n"
            )
        })
        .collect();
    bed.kubectl_with_stdin(["apply", "-n", ns.name(), "-f", "-"], &objects)
        .unwrap()
        .ok()
        .unwrap();
    let started = Instant::now();
    bed.kubectl([
        "delete",
        "namespace",
        ns.name(),
        "--wait=true",
        "--timeout=90s",
    ])
    .unwrap()
    .ok()
    .unwrap();
    let gone = bed.kubectl(["get", "namespace", ns.name()]).unwrap();
    assert!(gone.stderr.contains("NotFound"), "{gone}");
    cwo_e2e::report(&format!(
        "  ok  namespace with 50 objects deleted in {:.1?}",
        started.elapsed()
    ));
    assert!(started.elapsed() < Duration::from_secs(90));
}

#[test]
fn a_failed_start_reports_the_api_servers_log() {
    let config = ControlPlaneConfig {
        apiserver_args: vec!["--no-such-flag".into()],
        ..ControlPlaneConfig::default()
    };
    let err = match Bed::start_local(config) {
        Ok(_) => panic!("kube-apiserver started with an unknown flag"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("kube-apiserver exited"), "{err}");
    assert!(err.contains("unknown flag: --no-such-flag"), "{err}");
}
