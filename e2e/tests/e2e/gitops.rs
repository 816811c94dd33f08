//! What GitOps tools see of our objects, checked without an operator: the Argo CD health scripts
//! run in gopher-lua (Argo CD's own Lua VM) and kstatus (Flux, Helm 4's `--wait`) over objects
//! captured from the bed in every state (`tests/fixtures/gitops/`, kept true to what the operator
//! writes by `gitops_live`), the chart's rendering of the scripts, the `argocd-cm` snippet, and the
//! manifests in `examples/gitops/`.
//!
//! Also the vocabulary the live tests share: the [`State`]s an object is captured in, what each
//! tool must say of it ([`check_verdicts`]), and the fixtures ([`check_fixture`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use cwo_e2e::health::{self, Health, KINDS, argocd_key, argocd_script};
use cwo_e2e::manifests::{parse_documents, split_documents, yaml_files};
use cwo_e2e::{Tools, repo_root};
use serde_json::{Value, json};

use crate::corpus::KUSTOMIZATION;

/// Where the captured objects live, one file per kind and state: `<Kind>.<state>.json`.
pub const FIXTURES: &str = "e2e/tests/fixtures/gitops";
/// Set to rewrite the fixtures (and the argocd-cm snippet) from what the tests see, instead of
/// comparing with them.
pub const WRITE_FIXTURES_ENV: &str = "CWO_E2E_WRITE_FIXTURES";
/// The argocd-cm snippet users merge into Argo CD's configuration.
const ARGOCD_CM: &str = "examples/gitops/argocd/argocd-cm.yaml";

/// A state an object is captured in, each with what kstatus and Argo CD must say of it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// Just created, before the operator reconciled it: the CRD's default status.
    Created,
    /// Ready for its current generation.
    Ready,
    /// Not Ready for a reason that is retried (Reconciling=True).
    Waiting,
    /// A terminal reason (Stalled=True).
    Stalled(String),
    /// Ready for an older generation: the spec changed while the operator was away.
    Stale,
    /// A MetricStream Ready with `desiredState: Stopped`.
    Stopped,
}

impl State {
    pub fn name(&self) -> String {
        match self {
            State::Created => "created".into(),
            State::Ready => "ready".into(),
            State::Waiting => "waiting".into(),
            State::Stalled(reason) => format!("stalled-{reason}"),
            State::Stale => "stale".into(),
            State::Stopped => "stopped".into(),
        }
    }

    fn parse(name: &str) -> Result<State> {
        Ok(match name {
            "created" => State::Created,
            "ready" => State::Ready,
            "waiting" => State::Waiting,
            "stale" => State::Stale,
            "stopped" => State::Stopped,
            other => State::Stalled(
                other
                    .strip_prefix("stalled-")
                    .with_context(|| format!("unknown state {other:?}"))?
                    .to_string(),
            ),
        })
    }

    /// kstatus's verdict: Current, InProgress or Failed.
    pub fn kstatus(&self) -> &'static str {
        match self {
            State::Ready | State::Stopped => "Current",
            State::Created | State::Waiting | State::Stale => "InProgress",
            State::Stalled(_) => "Failed",
        }
    }

    /// Argo CD's verdict through our health script.
    pub fn argocd(&self) -> &'static str {
        match self {
            State::Ready => "Healthy",
            State::Stopped => "Suspended",
            State::Created | State::Waiting | State::Stale => "Progressing",
            State::Stalled(_) => "Degraded",
        }
    }
}

/// The condition `type_` of an object.
fn condition<'a>(obj: &'a Value, type_: &str) -> Option<&'a Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

fn text<'a>(c: &'a Value, field: &str) -> Result<&'a str> {
    c[field]
        .as_str()
        .with_context(|| format!("condition {} has no {field}: {c}", c["type"]))
}

/// Checks the object is in `state` as the operator's contract has it, and that kstatus and the
/// kind's Argo CD health script say what they must of it, with the operator's reason and
/// message. Returns both verdicts.
pub fn check_verdicts(kind: &str, state: &State, obj: &Value) -> Result<(Health, Health)> {
    let kstatus = health::kstatus(obj)?;
    let argocd = health::argocd(&argocd_script(kind), obj)?;
    let what = format!("{kind} {} ({})", obj["metadata"]["name"], state.name());
    ensure!(
        kstatus.status == state.kstatus(),
        "{what}: kstatus says {kstatus:?}, expected {}\n{obj:#}",
        state.kstatus()
    );
    ensure!(
        argocd.status == state.argocd(),
        "{what}: Argo CD says {argocd:?}, expected {}\n{obj:#}",
        state.argocd()
    );
    let generation = obj["metadata"]["generation"]
        .as_i64()
        .context("metadata.generation")?;
    let observed = obj["status"]["observedGeneration"].as_i64();
    match state {
        State::Created => {
            ensure!(
                obj["status"] == json!({"observedGeneration": 0}),
                "{what}: a new object reads status {{observedGeneration: 0}}, not {}",
                obj["status"]
            );
            ensure!(
                argocd.message
                    == format!("Waiting for the operator to reconcile generation {generation}"),
                "{what}: {argocd:?}"
            );
        }
        State::Ready | State::Stopped => {
            ensure!(observed == Some(generation), "{what}: observedGeneration");
            let ready = condition(obj, "Ready").context("no Ready condition")?;
            ensure!(ready["status"] == "True", "{what}: {ready}");
            for absent in ["Reconciling", "Stalled"] {
                ensure!(
                    condition(obj, absent).is_none(),
                    "{what}: a Ready object carries no {absent} condition"
                );
            }
            let message = text(ready, "message")?;
            if *state == State::Ready {
                ensure!(argocd.message == message, "{what}: {argocd:?}");
            } else {
                ensure!(
                    argocd.message.contains("Stopped") && argocd.message.contains(message),
                    "{what}: {argocd:?}"
                );
            }
        }
        State::Waiting => {
            ensure!(observed == Some(generation), "{what}: observedGeneration");
            let ready = condition(obj, "Ready").context("no Ready condition")?;
            let reconciling = condition(obj, "Reconciling").context("no Reconciling")?;
            ensure!(ready["status"] == "False", "{what}: {ready}");
            ensure!(reconciling["status"] == "True", "{what}: {reconciling}");
            ensure!(condition(obj, "Stalled").is_none(), "{what}: Stalled");
            ensure!(
                reconciling["reason"] == ready["reason"]
                    && reconciling["message"] == ready["message"],
                "{what}: Reconciling carries the verdict's reason and message: {reconciling} vs {ready}"
            );
            let message = text(reconciling, "message")?;
            ensure!(kstatus.message == message, "{what}: {kstatus:?}");
            let expected = format!("{}: {message}", text(reconciling, "reason")?);
            ensure!(argocd.message == expected, "{what}: {argocd:?}");
        }
        State::Stalled(reason) => {
            ensure!(observed == Some(generation), "{what}: observedGeneration");
            let ready = condition(obj, "Ready").context("no Ready condition")?;
            let stalled = condition(obj, "Stalled").context("no Stalled condition")?;
            ensure!(
                ready["status"] == "False" && ready["reason"] == reason.as_str(),
                "{what}: {ready}"
            );
            ensure!(
                stalled["status"] == "True"
                    && stalled["reason"] == reason.as_str()
                    && stalled["message"] == ready["message"],
                "{what}: Stalled carries our reason and message: {stalled} vs {ready}"
            );
            ensure!(
                condition(obj, "Reconciling").is_none(),
                "{what}: Reconciling"
            );
            let message = text(stalled, "message")?;
            ensure!(kstatus.message == message, "{what}: {kstatus:?}");
            ensure!(
                argocd.message == format!("{reason}: {message}"),
                "{what}: {argocd:?}"
            );
        }
        State::Stale => {
            ensure!(
                observed.is_some_and(|o| o < generation),
                "{what}: observedGeneration {observed:?} is behind generation {generation}"
            );
        }
    }
    Ok((kstatus, argocd))
}

/// The fixture file of `kind` in `state`.
pub fn fixture_path(kind: &str, state: &State) -> PathBuf {
    repo_root()
        .join(FIXTURES)
        .join(format!("{kind}.{}.json", state.name()))
}

/// Compares the live object, normalized, with its fixture, or writes the fixture when
/// `CWO_E2E_WRITE_FIXTURES` is set. A difference means the operator now writes something the
/// fixtures (and so the script tests) do not show.
pub fn check_fixture(kind: &str, state: &State, live: &Value) -> Result<()> {
    let path = fixture_path(kind, state);
    let normalized = normalize(live);
    let text = serde_json::to_string_pretty(&normalized)? + "\n";
    if std::env::var_os(WRITE_FIXTURES_ENV).is_some() {
        std::fs::create_dir_all(path.parent().expect("fixtures have a directory"))?;
        std::fs::write(&path, text)?;
        cwo_e2e::report(&format!("  wrote {}", path.display()));
        return Ok(());
    }
    let committed = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "reading {} (set {WRITE_FIXTURES_ENV}=1 to write it)",
            path.display()
        )
    })?;
    ensure!(
        committed == text,
        "{} differs from what the operator wrote now (set {WRITE_FIXTURES_ENV}=1 to rewrite the \
         fixtures, then review the diff):\n--- committed\n{committed}\n--- live, normalized\n{text}",
        path.display()
    );
    Ok(())
}

/// The object without what differs between runs: server-set identity and timestamps, the test
/// namespace (in messages too) and the UID (status may name it).
pub fn normalize(live: &Value) -> Value {
    let mut obj = live.clone();
    let namespace = live["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let uid = live["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if let Some(meta) = obj["metadata"].as_object_mut() {
        for field in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "managedFields",
            "namespace",
        ] {
            meta.remove(field);
        }
    }
    fn walk(v: &mut Value, namespace: &str, uid: &str) {
        match v {
            Value::String(s) => {
                let mut out = mask_timestamps(s);
                if !uid.is_empty() {
                    out = out.replace(uid, "UID");
                }
                if !namespace.is_empty() {
                    out = out.replace(namespace, "NAMESPACE");
                }
                *s = out;
            }
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, namespace, uid)),
            Value::Object(map) => map.values_mut().for_each(|i| walk(i, namespace, uid)),
            _ => {}
        }
    }
    walk(&mut obj, &namespace, &uid);
    obj
}

/// Replaces every RFC 3339 timestamp in `s` (`2026-01-02T03:04:05Z`, with an optional fraction
/// and a `Z` or `±hh:mm` offset) with `TIMESTAMP`.
fn mask_timestamps(s: &str) -> String {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd";
    let b = s.as_bytes();
    let fits = |at: usize, shape: &[u8]| {
        at + shape.len() <= b.len()
            && shape.iter().zip(&b[at..]).all(|(want, got)| match want {
                b'd' => got.is_ascii_digit(),
                _ => want == got,
            })
    };
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if fits(i, SHAPE) {
            let mut end = i + SHAPE.len();
            if end < b.len() && b[end] == b'.' {
                end += 1;
                while end < b.len() && b[end].is_ascii_digit() {
                    end += 1;
                }
            }
            if end < b.len() && b[end] == b'Z' {
                end += 1;
            } else if fits(end, b"+dd:dd") || fits(end, b"-dd:dd") {
                end += 6;
            }
            out.push_str("TIMESTAMP");
            i = end;
        } else {
            let c = s[i..].chars().next().expect("i is a char boundary");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Every fixture: (kind, state, object).
fn fixtures() -> Result<Vec<(String, State, Value)>> {
    let dir = repo_root().join(FIXTURES);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let (kind, state) = name
            .strip_suffix(".json")
            .and_then(|n| n.split_once('.'))
            .with_context(|| format!("{name}: fixtures are named <Kind>.<state>.json"))?;
        ensure!(KINDS.contains(&kind), "{name}: unknown kind {kind}");
        let object: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)
            .with_context(|| format!("parsing {}", path.display()))?;
        ensure!(object["kind"] == kind, "{name} holds a {}", object["kind"]);
        out.push((kind.to_string(), State::parse(state)?, object));
    }
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    Ok(out)
}

#[test]
fn every_kinds_health_script_and_kstatus_read_the_captured_objects_in_every_state() {
    let fixtures = fixtures().unwrap();
    let mut failures = Vec::new();
    for (kind, state, object) in &fixtures {
        match check_verdicts(kind, state, object) {
            Ok((kstatus, argocd)) => cwo_e2e::report(&format!(
                "  ok  {kind}.{}: kstatus {}, Argo CD {} ({})",
                state.name(),
                kstatus.status,
                argocd.status,
                argocd.message
            )),
            Err(e) => failures.push(format!("{e:#}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // Every kind is captured in every state it has.
    let have: BTreeSet<(String, String)> = fixtures
        .iter()
        .map(|(k, s, _)| {
            let state = match s {
                State::Stalled(_) => "stalled".to_string(),
                other => other.name(),
            };
            (k.clone(), state)
        })
        .collect();
    for kind in KINDS {
        let mut states = vec!["created", "ready", "waiting", "stalled", "stale"];
        if kind == "MetricStream" {
            states.push("stopped");
        }
        for state in states {
            assert!(
                have.contains(&(kind.to_string(), state.to_string())),
                "no fixture of {kind} in state {state} in {FIXTURES}"
            );
        }
    }
}

/// An object of `kind` with this metadata.generation and status.
fn object(kind: &str, generation: i64, status: Option<Value>) -> Value {
    let mut obj = json!({
        "apiVersion": "cwo.dev/v1alpha1",
        "kind": kind,
        "metadata": {"name": "x", "generation": generation},
        "spec": {},
    });
    if let Some(status) = status {
        obj["status"] = status;
    }
    obj
}

fn cond(type_: &str, status: &str, reason: &str, message: &str) -> Value {
    json!({"type": type_, "status": status, "reason": reason, "message": message})
}

#[test]
fn the_health_scripts_decide_on_generation_then_stalled_then_ready() {
    let ready = cond("Ready", "True", "Available", "the alarm exists");
    let stalled = cond("Stalled", "True", "InvalidSpec", "AWS refused it");
    let not_ready = cond("Ready", "False", "InvalidSpec", "AWS refused it");
    for kind in KINDS {
        let script = argocd_script(kind);
        let run = |obj: Value| health::argocd(&script, &obj).unwrap();
        // An object stored before the CRD defaulted its status has none at all.
        assert_eq!(run(object(kind, 1, None)).status, "Progressing", "{kind}");
        // Ready for generation 1 says nothing about generation 2.
        let stale = run(object(
            kind,
            2,
            Some(json!({"observedGeneration": 1, "conditions": [ready]})),
        ));
        assert_eq!(
            (stale.status.as_str(), stale.message.as_str()),
            (
                "Progressing",
                "Waiting for the operator to reconcile generation 2"
            ),
            "{kind}"
        );
        // Stalled wins over anything else the conditions say.
        let degraded = run(object(
            kind,
            2,
            Some(json!({"observedGeneration": 2, "conditions": [not_ready, stalled]})),
        ));
        assert_eq!(
            (degraded.status.as_str(), degraded.message.as_str()),
            ("Degraded", "InvalidSpec: AWS refused it"),
            "{kind}"
        );
        // Stalled=False is no failure; Ready=False without Reconciling is still progressing.
        let waiting = run(object(
            kind,
            2,
            Some(json!({"observedGeneration": 2, "conditions": [
                cond("Ready", "False", "Creating", "creating the alarm"),
                cond("Stalled", "False", "Creating", ""),
            ]})),
        ));
        assert_eq!(
            (waiting.status.as_str(), waiting.message.as_str()),
            ("Progressing", "Creating: creating the alarm"),
            "{kind}"
        );
        let no_conditions = run(object(kind, 1, Some(json!({"observedGeneration": 1}))));
        assert_eq!(
            (
                no_conditions.status.as_str(),
                no_conditions.message.as_str()
            ),
            ("Progressing", "Waiting for the Ready condition"),
            "{kind}"
        );
    }
}

#[test]
fn only_a_stopped_metric_stream_is_suspended() {
    let status = json!({"observedGeneration": 1, "conditions": [
        cond("Ready", "True", "Available", "stream is stopped as desired"),
    ]});
    for kind in KINDS {
        let mut obj = object(kind, 1, Some(status.clone()));
        obj["spec"]["desiredState"] = json!("Stopped");
        let verdict = health::argocd(&argocd_script(kind), &obj).unwrap();
        let expected = if kind == "MetricStream" {
            "Suspended"
        } else {
            "Healthy"
        };
        assert_eq!(verdict.status, expected, "{kind}");
    }
    let mut running = object("MetricStream", 1, Some(status));
    running["spec"]["desiredState"] = json!("Running");
    let verdict = health::argocd(&argocd_script("MetricStream"), &running).unwrap();
    assert_eq!(verdict.status, "Healthy");
}

#[test]
fn the_script_runner_has_argo_cds_libraries_and_no_more() {
    let dir = tempfile::tempdir().unwrap();
    let obj = object("Alarm", 1, None);
    let run = |body: &str| {
        let path = dir.path().join("script.lua");
        std::fs::write(&path, body).unwrap();
        health::argocd(&path, &obj)
    };
    // Base and table libraries, and `obj`.
    let ok = run("local t = {}\ntable.insert(t, obj.kind)\nreturn {status = \"Healthy\", message = tostring(#t) .. t[1]}").unwrap();
    assert_eq!(
        (ok.status.as_str(), ok.message.as_str()),
        ("Healthy", "1Alarm")
    );
    // argocd-cm scripts run without Lua's standard libraries: no string, no global os.
    for missing in ["string.format(\"x\")", "os.getenv(\"HOME\")"] {
        let err = run(&format!("{missing}\nreturn {{status = \"Healthy\"}}")).unwrap_err();
        assert!(
            format!("{err:#}").contains("non-table object(nil)"),
            "{missing}: {err:#}"
        );
    }
    // A status Argo CD does not know reads as Unknown; a script returning no table is an error.
    let unknown = run("return {status = \"Fine\"}").unwrap();
    assert_eq!(unknown.status, "Unknown");
    assert!(run("return \"Healthy\"").is_err());
}

/// The scripts by argocd-cm key, read from the chart's files.
fn scripts() -> BTreeMap<String, String> {
    KINDS
        .iter()
        .map(|kind| {
            let path = argocd_script(kind);
            let body = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            (argocd_key(kind), body)
        })
        .collect()
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
        "{ARGOCD_CM} differs from the scripts in {} (set {WRITE_FIXTURES_ENV}=1 to rewrite it)",
        health::ARGOCD_SCRIPTS_DIR
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

/// `helm template` of the chart with `args`, as documents.
fn helm_template(args: &[&str]) -> Result<Vec<Value>> {
    let chart = repo_root().join("charts/cloudwatch-operator");
    let out = std::process::Command::new(&Tools::ensure()?.helm)
        .arg("template")
        .arg("cwo")
        .arg(&chart)
        .args(["--namespace", "cloudwatch-operator"])
        .args(args)
        .env(
            "HELM_CACHE_HOME",
            std::env::temp_dir().join("cwo-helm-template"),
        )
        .env(
            "HELM_CONFIG_HOME",
            std::env::temp_dir().join("cwo-helm-template"),
        )
        .env(
            "HELM_DATA_HOME",
            std::env::temp_dir().join("cwo-helm-template"),
        )
        .output()?;
    if !out.status.success() {
        bail!(
            "helm template failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    split_documents(&String::from_utf8_lossy(&out.stdout))
        .iter()
        .map(|d| Ok(serde_yaml::from_str(d)?))
        .collect()
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
        data,
        scripts(),
        "the chart renders the script files unchanged"
    );
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

#[test]
fn timestamps_namespace_and_uid_are_masked_in_fixtures() {
    let live = json!({
        "metadata": {"name": "a", "namespace": "ns-1", "uid": "u-1", "resourceVersion": "7",
                     "creationTimestamp": "2026-01-02T03:04:05Z", "generation": 1},
        "status": {"conditions": [{"lastTransitionTime": "2026-01-02T03:04:05Z",
            "message": "owned by ns-1/b (u-1) since 2026-01-02T03:04:05.123+02:00, retrying"}]},
    });
    assert_eq!(
        normalize(&live),
        json!({
            "metadata": {"name": "a", "generation": 1},
            "status": {"conditions": [{"lastTransitionTime": "TIMESTAMP",
                "message": "owned by NAMESPACE/b (UID) since TIMESTAMP, retrying"}]},
        })
    );
    assert_eq!(
        mask_timestamps("2026-01-02 and 2026-01-02T03:04"),
        "2026-01-02 and 2026-01-02T03:04"
    );
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
