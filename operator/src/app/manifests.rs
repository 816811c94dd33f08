//! The manifests `plan` reads (`-f FILE`, `-f DIR`, `-f -`), as the objects of every kind.
//! Documents of other API groups (a Kustomization, a Deployment) are set aside and listed; a
//! cwo.dev document that is not a valid object of its kind is an error, as `kubectl apply`
//! would make it.

use crate::alarm::Alarm;
use crate::aws_account::AWSAccount;
use crate::composite_alarm::CompositeAlarm;
use crate::log_destination::LogDestination;
use crate::log_subscription::LogSubscription;
use crate::metric_filter::MetricFilter;
use crate::metric_stream::MetricStream;
use crate::runtime::ManagedKind;
use crate::sampling_rule::SamplingRule;
use crate::vocabulary::GROUP;
use anyhow::{Context as _, bail};
use kube::{Resource, ResourceExt};
use serde::Deserialize;
use serde_yaml::Value;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One YAML document and the file it came from (`-` for standard input).
#[derive(Clone, Debug)]
pub struct Document {
    pub source: String,
    pub value: Value,
}

/// Reads every document of `sources`: files, directories (their `.yaml`, `.yml` and `.json`
/// files, in name order; subdirectories too when `recursive`) and `-` for standard input.
/// `kind: List` documents are read as their items.
pub fn read(sources: &[String], recursive: bool) -> anyhow::Result<Vec<Document>> {
    let mut documents = Vec::new();
    for source in sources {
        if source == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading manifests from standard input")?;
            parse(&text, "-", &mut documents)?;
            continue;
        }
        let path = Path::new(source);
        let files = if path.is_dir() {
            let mut files = Vec::new();
            manifest_files(path, recursive, &mut files)?;
            files
        } else {
            vec![path.to_path_buf()]
        };
        for file in files {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            parse(&text, &file.display().to_string(), &mut documents)?;
        }
    }
    Ok(documents)
}

fn manifest_files(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading directory {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("reading directory {}", dir.display()))?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if recursive {
                manifest_files(&path, recursive, out)?;
            }
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Adds the documents of `text` to `out`.
pub fn parse(text: &str, source: &str, out: &mut Vec<Document>) -> anyhow::Result<()> {
    for (i, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = Value::deserialize(document)
            .with_context(|| format!("{source}: document {} is not valid YAML", i + 1))?;
        push(value, source, out);
    }
    Ok(())
}

fn push(value: Value, source: &str, out: &mut Vec<Document>) {
    match value {
        Value::Null => {}
        Value::Mapping(ref m) if m.get("kind").and_then(Value::as_str) == Some("List") => {
            let items = m.get("items").and_then(Value::as_sequence).cloned();
            for item in items.into_iter().flatten() {
                push(item, source, out);
            }
        }
        value => out.push(Document {
            source: source.to_string(),
            value,
        }),
    }
}

/// Where an object came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub source: String,
}

/// The objects of the manifests, by kind, and what was set aside.
#[derive(Debug, Default)]
pub struct Manifests {
    pub alarms: Vec<Alarm>,
    pub composites: Vec<CompositeAlarm>,
    pub streams: Vec<MetricStream>,
    pub subscriptions: Vec<LogSubscription>,
    pub metric_filters: Vec<MetricFilter>,
    pub destinations: Vec<LogDestination>,
    pub rules: Vec<SamplingRule>,
    /// AWSAccounts (cluster-scoped: placed with an empty namespace).
    pub accounts: Vec<AWSAccount>,
    /// Every object, in the order read.
    pub placed: Vec<Placed>,
    /// Documents that are not cwo.dev objects, as `Kind name (source)`.
    pub ignored: Vec<String>,
}

impl Manifests {
    /// Sorts `documents` into objects; objects that name no namespace go to `namespace`.
    pub fn from_documents(documents: Vec<Document>, namespace: &str) -> anyhow::Result<Self> {
        let mut m = Manifests::default();
        let mut seen = BTreeSet::new();
        for doc in documents {
            let placed = m.add(&doc, namespace)?;
            if let Some(placed) = placed {
                let key = (placed.kind, placed.namespace.clone(), placed.name.clone());
                if !seen.insert(key) {
                    bail!(
                        "{}: {} {}/{} is defined more than once",
                        placed.source,
                        placed.kind,
                        placed.namespace,
                        placed.name
                    );
                }
                m.placed.push(placed);
            }
        }
        Ok(m)
    }

    /// Adds one document: the object it holds, or a note that it was set aside.
    fn add(&mut self, doc: &Document, namespace: &str) -> anyhow::Result<Option<Placed>> {
        let field = |name: &str| doc.value.get(name).and_then(Value::as_str).unwrap_or("");
        let (api_version, kind) = (field("apiVersion"), field("kind"));
        let group = api_version.split_once('/').map_or("", |(g, _)| g);
        if group != GROUP {
            let name = doc
                .value
                .get("metadata")
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("(unnamed)");
            let kind = if kind.is_empty() { "(no kind)" } else { kind };
            self.ignored.push(format!("{kind} {name} ({})", doc.source));
            return Ok(None);
        }
        let placed = match kind {
            "Alarm" => object(doc, namespace, &mut self.alarms)?,
            "CompositeAlarm" => object(doc, namespace, &mut self.composites)?,
            "MetricStream" => object(doc, namespace, &mut self.streams)?,
            "LogSubscription" => object(doc, namespace, &mut self.subscriptions)?,
            "MetricFilter" => object(doc, namespace, &mut self.metric_filters)?,
            "LogDestination" => object(doc, namespace, &mut self.destinations)?,
            "SamplingRule" => object(doc, namespace, &mut self.rules)?,
            "AWSAccount" => account(doc, &mut self.accounts)?,
            other => bail!(
                "{}: {api_version} {other} is not a kind this version of cloudwatch-operator \
                 knows",
                doc.source
            ),
        };
        Ok(Some(placed))
    }
}

/// Reads `doc` as an AWSAccount into `accounts`: cluster-scoped, so a namespace it names is
/// dropped, as the API server drops it.
fn account(doc: &Document, accounts: &mut Vec<AWSAccount>) -> anyhow::Result<Placed> {
    let api_version = doc.value.get("apiVersion").and_then(Value::as_str);
    let served = AWSAccount::api_version(&());
    if api_version != Some(served.as_ref()) {
        bail!(
            "{}: {} AWSAccount is served as {served}",
            doc.source,
            api_version.unwrap_or_default()
        );
    }
    let mut obj: AWSAccount = serde_yaml::from_value(doc.value.clone())
        .with_context(|| format!("{}: not a valid AWSAccount", doc.source))?;
    if obj.meta().name.as_deref().is_none_or(str::is_empty) {
        bail!("{}: an AWSAccount without metadata.name", doc.source);
    }
    obj.meta_mut().namespace = None;
    let placed = Placed {
        kind: "AWSAccount",
        namespace: String::new(),
        name: obj.name_any(),
        source: doc.source.clone(),
    };
    accounts.push(obj);
    Ok(placed)
}

/// Reads `doc` as an object of kind `K` into `objects`.
fn object<K: ManagedKind>(
    doc: &Document,
    namespace: &str,
    objects: &mut Vec<K>,
) -> anyhow::Result<Placed> {
    let api_version = doc.value.get("apiVersion").and_then(Value::as_str);
    if api_version != Some(K::api_version(&()).as_ref()) {
        bail!(
            "{}: {} {} is served as {}",
            doc.source,
            api_version.unwrap_or_default(),
            K::kind(&()),
            K::api_version(&())
        );
    }
    let mut obj: K = serde_yaml::from_value(doc.value.clone())
        .with_context(|| format!("{}: not a valid {}", doc.source, K::kind(&())))?;
    if obj.meta().name.as_deref().is_none_or(str::is_empty) {
        bail!("{}: a {} without metadata.name", doc.source, K::kind(&()));
    }
    if obj.namespace().is_none() {
        obj.meta_mut().namespace = Some(namespace.to_string());
    }
    let placed = Placed {
        kind: K::KIND,
        namespace: obj.namespace().unwrap_or_default(),
        name: obj.name_any(),
        source: doc.source.clone(),
    };
    objects.push(obj);
    Ok(placed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn documents(text: &str) -> Vec<Document> {
        let mut out = Vec::new();
        parse(text, "test.yaml", &mut out).unwrap();
        out
    }

    const ALARM: &str = "apiVersion: cwo.dev/v1alpha1
kind: Alarm
metadata:
  name: cpu
spec:
  namespace: AWS/EC2
  metricName: CPUUtilization
  statistic: Average
  period: 60
  evaluationPeriods: 1
  threshold: 80
  comparisonOperator: GreaterThanThreshold
";

    #[test]
    fn objects_are_sorted_by_kind_and_other_documents_are_set_aside() {
        let text = format!(
            "{ALARM}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\n---\napiVersion: cwo.dev/v1alpha1\nkind: SamplingRule\nmetadata:\n  name: r\n  namespace: team-b\nspec:\n  priority: 1\n  fixedRate: 0.1\n  reservoirSize: 1\n"
        );
        let m = Manifests::from_documents(documents(&text), "team-a").unwrap();
        assert_eq!(m.alarms.len(), 1);
        assert_eq!(m.alarms[0].namespace().as_deref(), Some("team-a"));
        assert_eq!(m.rules[0].namespace().as_deref(), Some("team-b"));
        assert_eq!(m.ignored, ["ConfigMap c (test.yaml)"]);
        let order: Vec<_> = m.placed.iter().map(|p| (p.kind, p.name.as_str())).collect();
        assert_eq!(order, [("Alarm", "cpu"), ("SamplingRule", "r")]);
    }

    #[test]
    fn a_list_is_read_as_its_items() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: cwo.dev/v1alpha1\n  kind: Alarm\n  metadata:\n    name: a\n  spec:\n    threshold: 1\n";
        let m = Manifests::from_documents(documents(text), "default").unwrap();
        assert_eq!(m.alarms.len(), 1);
    }

    #[test]
    fn an_object_twice_an_unknown_kind_or_a_broken_object_is_an_error() {
        let twice = format!("{ALARM}---\n{ALARM}");
        let e = Manifests::from_documents(documents(&twice), "default").unwrap_err();
        assert!(e.to_string().contains("more than once"), "{e}");
        let unknown = "apiVersion: cwo.dev/v1alpha1\nkind: Dashboard\nmetadata:\n  name: d\n";
        let e = Manifests::from_documents(documents(unknown), "default").unwrap_err();
        assert!(e.to_string().contains("Dashboard"), "{e}");
        let broken = "apiVersion: cwo.dev/v1alpha1\nkind: Alarm\nmetadata:\n  name: a\nspec:\n  threshold: high\n";
        let e = Manifests::from_documents(documents(broken), "default").unwrap_err();
        assert!(e.to_string().contains("not a valid Alarm"), "{e:#}");
    }

    #[test]
    fn an_aws_account_is_read_without_a_namespace_and_a_broken_one_is_an_error() {
        let account = "apiVersion: cwo.dev/v1alpha1\nkind: AWSAccount\nmetadata:\n  name: prod\n  namespace: ignored\nspec:\n  roleArn: arn:aws:iam::210987654321:role/cloudwatch-operator\n  namespaces: [web]\n";
        let m =
            Manifests::from_documents(documents(&format!("{account}---\n{ALARM}")), "web").unwrap();
        assert_eq!(m.accounts.len(), 1);
        assert_eq!(m.accounts[0].namespace(), None);
        let order: Vec<_> = m
            .placed
            .iter()
            .map(|p| (p.kind, p.namespace.as_str(), p.name.as_str()))
            .collect();
        assert_eq!(order, [("AWSAccount", "", "prod"), ("Alarm", "web", "cpu")]);
        let broken = "apiVersion: cwo.dev/v1alpha1\nkind: AWSAccount\nmetadata:\n  name: prod\nspec:\n  namespaces: [web]\n";
        let e = Manifests::from_documents(documents(broken), "web").unwrap_err();
        assert!(e.to_string().contains("not a valid AWSAccount"), "{e:#}");
    }
}
