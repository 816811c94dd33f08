//! The GitOps files users take, checked: the argocd-cm snippet equals the chart's Argo CD health
//! scripts, the chart renders them only when asked, the merges README and the chart's notes give
//! work on a stand-in argocd-cm, `examples/kustomization.yaml` lists every example and builds, and
//! the Argo CD and Flux manifests in `examples/gitops/` (whose CRDs the bed lacks) point at the
//! examples of this repository.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use cwo_e2e::health::{self, KINDS, argocd_key};
use cwo_e2e::manifests::{helm_template, parse_documents, split_documents, yaml_files};
use cwo_e2e::{Tools, repo_root};
use serde_json::{Value, json};

use crate::corpus::KUSTOMIZATION;
use crate::gitops::WRITE_FIXTURES_ENV;

/// The argocd-cm snippet users merge into Argo CD's configuration.
const ARGOCD_CM: &str = "examples/gitops/argocd/argocd-cm.yaml";

/// The scripts by argocd-cm key, as the chart renders them.
fn scripts() -> BTreeMap<String, String> {
    health::argocd_scripts().unwrap().clone()
}

/// The argocd-cm snippet as it must read: a header, then every script under its key.
fn argocd_cm_text() -> String {
    let mut text = String::from(
        "# Argo CD health checks for every cloudwatch-operator kind, as keys of Argo CD's argocd-cm.\n\
         # Generated from charts/cloudwatch-operator/argocd/ (a test keeps the two equal). Merge it into\n\
         # your argocd-cm without touching its other keys:\n\
         #   kubectl patch configmap argocd-cm -n argocd --type merge --patch-file argocd-cm.yaml\n\
         # or list it under `patches` in the kustomization that installs Argo CD. The chart can render\n\
         # the same keys (value argocd.healthChecks.enabled); see README.md, \"GitOps\".\n\
         apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\ndata:\n",
    );
    for (key, body) in scripts() {
        text.push_str(&format!("  {key}: |\n"));
        for line in body.lines() {
            if line.is_empty() {
                text.push('\n');
            } else {
                text.push_str(&format!("    {line}\n"));
            }
        }
    }
    text
}

#[test]
fn the_argocd_cm_snippet_holds_exactly_the_charts_scripts() {
    let path = repo_root().join(ARGOCD_CM);
    let expected = argocd_cm_text();
    if std::env::var_os(WRITE_FIXTURES_ENV).is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed == expected,
        "{ARGOCD_CM} differs from the scripts the chart renders from {} (set {WRITE_FIXTURES_ENV}=1 \
         to rewrite it)",
        health::ARGOCD_SCRIPT_TEMPLATE
    );
    // And it parses to exactly those keys and bodies (the hand-written YAML above is right).
    let docs = parse_documents(&path).unwrap();
    assert_eq!(docs.len(), 1);
    let data: BTreeMap<String, String> = serde_json::from_value(docs[0]["data"].clone()).unwrap();
    assert_eq!(data, scripts());
    assert_eq!(
        docs[0]["metadata"],
        json!({"name": "argocd-cm", "namespace": "argocd"})
    );
}

fn health_config_map(docs: &[Value]) -> Option<&Value> {
    docs.iter().find(|d| {
        d["kind"] == "ConfigMap" && d["metadata"]["name"] == "cwo-cloudwatch-operator-argocd-health"
    })
}

#[test]
fn the_chart_renders_every_health_script_only_when_asked() {
    let default = helm_template(&[]).unwrap();
    assert!(health_config_map(&default).is_none(), "off by default");
    let docs = helm_template(&[
        "--set",
        "argocd.healthChecks.enabled=true",
        "--set",
        "argocd.healthChecks.namespace=argocd",
    ])
    .unwrap();
    let cm = health_config_map(&docs).expect("the health ConfigMap is rendered");
    assert_eq!(cm["metadata"]["namespace"], "argocd");
    let data: BTreeMap<String, String> = serde_json::from_value(cm["data"].clone()).unwrap();
    assert_eq!(
        data.keys().cloned().collect::<BTreeSet<_>>(),
        KINDS.iter().map(|kind| argocd_key(kind)).collect(),
        "one script for every kind, and only those"
    );
    assert_eq!(data, scripts(), "the same scripts in any namespace");
    let in_release = helm_template(&["--set", "argocd.healthChecks.enabled=true"]).unwrap();
    assert_eq!(
        health_config_map(&in_release).unwrap()["metadata"]["namespace"],
        "cloudwatch-operator"
    );
}

/// The manifest files of a directory: every YAML file but its kustomization.
fn manifests(dir: &Path) -> Vec<PathBuf> {
    yaml_files(dir)
        .unwrap()
        .into_iter()
        .filter(|f| !f.ends_with(KUSTOMIZATION))
        .collect()
}

#[test]
fn the_examples_kustomization_lists_every_example_and_builds() {
    let examples = repo_root().join("examples");
    let kustomization = parse_documents(&examples.join(KUSTOMIZATION)).unwrap();
    let listed: BTreeSet<String> =
        serde_json::from_value(kustomization[0]["resources"].clone()).unwrap();
    let files: BTreeSet<String> = manifests(&examples)
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        listed, files,
        "examples/{KUSTOMIZATION} lists every example, and only those"
    );
    // kustomize (built into kubectl) renders every object of every example.
    let out = std::process::Command::new(&Tools::ensure().unwrap().kubectl)
        .arg("kustomize")
        .arg(&examples)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let built: BTreeSet<(String, String)> = split_documents(&String::from_utf8_lossy(&out.stdout))
        .iter()
        .map(|d| {
            let v: Value = serde_yaml::from_str(d).unwrap();
            (
                v["kind"].as_str().unwrap().to_string(),
                v["metadata"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = manifests(&examples)
        .iter()
        .flat_map(|f| parse_documents(f).unwrap())
        .map(|v| {
            (
                v["kind"].as_str().unwrap().to_string(),
                v["metadata"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(built, expected);
}

/// The one document of a file.
fn document(path: &str) -> Value {
    let docs = parse_documents(&repo_root().join(path)).unwrap();
    assert_eq!(docs.len(), 1, "{path}");
    docs.into_iter().next().unwrap()
}

#[test]
fn the_gitops_examples_sync_the_examples_from_this_repository() {
    // The manifests' CRDs (Argo CD's, Flux's) are not on the bed, so they are checked here, by
    // their fields, rather than by the API server. Every file is one of these.
    let dir = repo_root().join("examples/gitops");
    let mut seen = BTreeSet::new();
    for sub in ["argocd", "flux"] {
        for file in manifests(&dir.join(sub)) {
            seen.insert(
                file.strip_prefix(repo_root())
                    .unwrap()
                    .display()
                    .to_string(),
            );
        }
    }
    let checked: BTreeSet<String> = [
        ARGOCD_CM,
        "examples/gitops/argocd/application.yaml",
        "examples/gitops/flux/gitrepository.yaml",
        "examples/gitops/flux/cloudwatch-examples.yaml",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(
        seen, checked,
        "every file in examples/gitops is checked below"
    );

    let cargo = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    let repository = cargo
        .lines()
        .find_map(|l| l.strip_prefix("repository = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("the workspace names its repository");
    let git_url = format!("{repository}.git");

    let app = document("examples/gitops/argocd/application.yaml");
    assert_eq!(
        (app["apiVersion"].as_str(), app["kind"].as_str()),
        (Some("argoproj.io/v1alpha1"), Some("Application"))
    );
    assert_eq!(app["spec"]["source"]["repoURL"], git_url.as_str());
    assert_eq!(app["spec"]["source"]["path"], "examples");
    assert_eq!(app["spec"]["destination"]["namespace"], "cloudwatch");
    assert!(app["spec"]["destination"]["server"].is_string());
    assert!(app["spec"]["project"].is_string());

    let repo = document("examples/gitops/flux/gitrepository.yaml");
    assert_eq!(
        (repo["apiVersion"].as_str(), repo["kind"].as_str()),
        (Some("source.toolkit.fluxcd.io/v1"), Some("GitRepository"))
    );
    assert_eq!(repo["spec"]["url"], git_url.as_str());
    let ks = document("examples/gitops/flux/cloudwatch-examples.yaml");
    assert_eq!(
        (ks["apiVersion"].as_str(), ks["kind"].as_str()),
        (
            Some("kustomize.toolkit.fluxcd.io/v1"),
            Some("Kustomization")
        )
    );
    assert_eq!(
        ks["spec"]["wait"], true,
        "Flux waits for every object's kstatus"
    );
    assert_eq!(ks["spec"]["path"], "./examples");
    assert_eq!(
        ks["spec"]["sourceRef"],
        json!({"kind": "GitRepository", "name": repo["metadata"]["name"]})
    );
    assert_eq!(ks["metadata"]["namespace"], repo["metadata"]["namespace"]);
    for field in ["interval", "timeout"] {
        assert!(ks["spec"][field].is_string(), "spec.{field}");
    }
    // The path both tools sync builds with kustomize (checked above) from this repository.
    assert!(repo_root().join("examples").join(KUSTOMIZATION).is_file());
}

/// argocd-cm's data, read from the bed.
fn config_map_data(bed: &cwo_e2e::Bed, namespace: &str, name: &str) -> BTreeMap<String, String> {
    let out = bed
        .kubectl(["get", "configmap", name, "-n", namespace, "-o", "json"])
        .unwrap()
        .ok()
        .unwrap();
    let cm: Value = serde_json::from_str(&out.stdout).unwrap();
    serde_json::from_value(cm["data"].clone()).unwrap()
}

/// Runs `script` in bash with the bed's kubectl first on PATH and its environment.
fn shell(bed: &cwo_e2e::Bed, script: &str) {
    let kubectl = bed.kubectl_command();
    let dir = Path::new(kubectl.get_program())
        .parent()
        .unwrap()
        .to_path_buf();
    let mut command = std::process::Command::new("bash");
    command.args(["-euo", "pipefail", "-c", script]);
    for (key, value) in kubectl.get_envs() {
        if let Some(value) = value {
            command.env(key, value);
        }
    }
    let path = std::env::join_paths(std::iter::once(dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let out = command.env("PATH", path).output().unwrap();
    assert!(
        out.status.success(),
        "{script}\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The argocd-cm merge command the chart's notes print for a release `cloudwatch-operator` in
/// `namespace` with the health checks on: the lines after "merge them in with:".
fn merge_command_in_notes(namespace: &str) -> String {
    let out = std::process::Command::new(&Tools::ensure().unwrap().helm)
        .args(["install", "cloudwatch-operator"])
        .arg(repo_root().join("charts/cloudwatch-operator"))
        .args(["--dry-run=client", "--namespace", namespace])
        .args(["--set", "argocd.healthChecks.enabled=true"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (_, after) = stdout
        .split_once("merge them in with:\n")
        .expect("the notes print the merge command");
    after
        .lines()
        .take(2)
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("\n  ")
}

#[test]
fn the_documented_merges_add_the_health_checks_to_argocd_cm_and_keep_its_other_keys() {
    let bed = crate::corpus::bed();
    // Stand-ins for Argo CD's namespace and argocd-cm (with a setting of its own) and for the
    // chart's release namespace; the commands are README's with these namespaces.
    let argocd = cwo_e2e::checks::TestNamespace::create(bed, "cwo-e2e-argocd").unwrap();
    let release = cwo_e2e::checks::TestNamespace::create(bed, "cwo-e2e-argocd-release").unwrap();
    let expected_with = |own: &BTreeMap<String, String>| {
        let mut all = own.clone();
        all.extend(scripts());
        all
    };
    let own: BTreeMap<String, String> =
        [("url".to_string(), "https://argocd.example.com".to_string())].into();
    let fresh_argocd_cm = || {
        let _ = bed.kubectl(["delete", "configmap", "argocd-cm", "-n", argocd.name()]);
        bed.kubectl([
            "create",
            "configmap",
            "argocd-cm",
            "-n",
            argocd.name(),
            "--from-literal=url=https://argocd.example.com",
        ])
        .unwrap()
        .ok()
        .unwrap();
    };

    // The snippet, as a merge patch.
    fresh_argocd_cm();
    let snippet = std::fs::read_to_string(repo_root().join(ARGOCD_CM))
        .unwrap()
        .replace(
            "namespace: argocd\n",
            &format!("namespace: {}\n", argocd.name()),
        );
    let patch = std::env::temp_dir().join(format!("cwo-argocd-cm-{}.yaml", std::process::id()));
    std::fs::write(&patch, snippet).unwrap();
    shell(
        bed,
        &format!(
            "kubectl patch configmap argocd-cm -n {} --type merge --patch-file {}",
            argocd.name(),
            patch.display()
        ),
    );
    let _ = std::fs::remove_file(&patch);
    assert_eq!(
        config_map_data(bed, argocd.name(), "argocd-cm"),
        expected_with(&own)
    );

    // The chart's ConfigMap, merged with the command the chart's notes print (README gives
    // the same for the release namespace cloudwatch-operator).
    fresh_argocd_cm();
    let rendered = std::process::Command::new(&Tools::ensure().unwrap().helm)
        .args(["template", "cloudwatch-operator"])
        .arg(repo_root().join("charts/cloudwatch-operator"))
        .args([
            "--namespace",
            release.name(),
            "--set",
            "argocd.healthChecks.enabled=true",
        ])
        .args(["--show-only", "templates/argocd-health.yaml"])
        .output()
        .unwrap();
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    bed.kubectl_with_stdin(
        ["apply", "-f", "-"],
        &String::from_utf8_lossy(&rendered.stdout),
    )
    .unwrap()
    .ok()
    .unwrap();
    let command = merge_command_in_notes(release.name());
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    assert!(
        readme.contains(&merge_command_in_notes("cloudwatch-operator")),
        "README.md gives the command the chart's notes print:\n{command}"
    );
    shell(
        bed,
        &command.replace(" -n argocd ", &format!(" -n {} ", argocd.name())),
    );
    assert_eq!(
        config_map_data(bed, argocd.name(), "argocd-cm"),
        expected_with(&own)
    );
}
