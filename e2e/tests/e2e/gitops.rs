//! What GitOps tools see of our objects, checked without an operator: the Argo CD health scripts
//! run in gopher-lua (Argo CD's own Lua VM) and kstatus (Flux, Helm 4's `--wait`) over objects
//! captured from the bed in every state (`tests/fixtures/gitops/`, kept true to what the operator
//! writes by `gitops_live`), and the scripts' edge cases.
//!
//! Also the vocabulary the live tests share: the [`State`]s an object is captured in, what each
//! tool must say of it ([`check_verdicts`]), and the fixtures ([`check_fixture`]).

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::{Context, Result, ensure};
use cwo_e2e::health::{self, Health, KINDS, argocd_script};
use cwo_e2e::repo_root;
use serde_json::{Value, json};

/// Where the captured objects live, one file per kind and state: `<Kind>.<state>.json`.
pub const FIXTURES: &str = "e2e/tests/fixtures/gitops";
/// Set to rewrite the fixtures (and the argocd-cm snippet) from what the tests see, instead of
/// comparing with them.
pub const WRITE_FIXTURES_ENV: &str = "CWO_E2E_WRITE_FIXTURES";

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
    let argocd = health::argocd(&argocd_script(kind)?, obj)?;
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
            // The message kstatus passes on names the reason too.
            let expected = format!("{}: {}", text(ready, "reason")?, text(ready, "message")?);
            ensure!(
                reconciling["reason"] == ready["reason"] && reconciling["message"] == expected,
                "{what}: Reconciling carries the verdict's reason and message: {reconciling} vs {ready}"
            );
            ensure!(kstatus.message == expected, "{what}: {kstatus:?}");
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
            // The message kstatus passes on (helm and Flux print it) names the reason too.
            let expected = format!("{reason}: {}", text(ready, "message")?);
            ensure!(
                stalled["status"] == "True"
                    && stalled["reason"] == reason.as_str()
                    && stalled["message"] == expected.as_str(),
                "{what}: Stalled carries our reason and message: {stalled} vs {ready}"
            );
            ensure!(
                condition(obj, "Reconciling").is_none(),
                "{what}: Reconciling"
            );
            ensure!(kstatus.message == expected, "{what}: {kstatus:?}");
            ensure!(argocd.message == expected, "{what}: {argocd:?}");
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
fn fixture_path(kind: &str, state: &State) -> PathBuf {
    repo_root()
        .join(FIXTURES)
        .join(format!("{kind}.{}.json", state.name()))
}

/// Compares the live object, normalized (`namespace`: the test's), with its fixture, or writes
/// the fixture when `CWO_E2E_WRITE_FIXTURES` is set. A difference means the operator now writes
/// something the fixtures (and so the script tests) do not show.
pub fn check_fixture(kind: &str, state: &State, live: &Value, namespace: &str) -> Result<()> {
    let path = fixture_path(kind, state);
    let normalized = normalize(live, namespace);
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
/// namespace `namespace` (wherever it appears: in messages, and in the names, labels and spec of
/// a cluster-scoped object made for the test) and the UID (status may name it).
pub fn normalize(live: &Value, namespace: &str) -> Value {
    let mut obj = live.clone();
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
    walk(&mut obj, namespace, &uid);
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
    let stalled = cond(
        "Stalled",
        "True",
        "InvalidSpec",
        "InvalidSpec: AWS refused it",
    );
    let not_ready = cond("Ready", "False", "InvalidSpec", "AWS refused it");
    for kind in KINDS {
        let script = argocd_script(kind).unwrap();
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
        let verdict = health::argocd(&argocd_script(kind).unwrap(), &obj).unwrap();
        let expected = if kind == "MetricStream" {
            "Suspended"
        } else {
            "Healthy"
        };
        assert_eq!(verdict.status, expected, "{kind}");
    }
    let mut running = object("MetricStream", 1, Some(status));
    running["spec"]["desiredState"] = json!("Running");
    let verdict = health::argocd(&argocd_script("MetricStream").unwrap(), &running).unwrap();
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

#[test]
fn timestamps_namespace_and_uid_are_masked_in_fixtures() {
    let live = json!({
        "metadata": {"name": "a", "namespace": "ns-1", "uid": "u-1", "resourceVersion": "7",
                     "creationTimestamp": "2026-01-02T03:04:05Z", "generation": 1},
        "status": {"conditions": [{"lastTransitionTime": "2026-01-02T03:04:05Z",
            "message": "owned by ns-1/b (u-1) since 2026-01-02T03:04:05.123+02:00, retrying"}]},
    });
    assert_eq!(
        normalize(&live, "ns-1"),
        json!({
            "metadata": {"name": "a", "generation": 1},
            "status": {"conditions": [{"lastTransitionTime": "TIMESTAMP",
                "message": "owned by NAMESPACE/b (UID) since TIMESTAMP, retrying"}]},
        })
    );
    // A cluster-scoped object has no namespace of its own; the test's is masked in its name,
    // labels and spec.
    let account = json!({
        "metadata": {"name": "ns-1-trusted", "labels": {"cwo-e2e/operator": "ns-1"}},
        "spec": {"namespaces": ["ns-1"]},
    });
    assert_eq!(
        normalize(&account, "ns-1"),
        json!({
            "metadata": {"name": "NAMESPACE-trusted", "labels": {"cwo-e2e/operator": "NAMESPACE"}},
            "spec": {"namespaces": ["NAMESPACE"]},
        })
    );
    assert_eq!(
        mask_timestamps("2026-01-02 and 2026-01-02T03:04"),
        "2026-01-02 and 2026-01-02T03:04"
    );
}
