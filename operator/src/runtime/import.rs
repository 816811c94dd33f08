//! Existing AWS objects as the manifests that take them over (`cloudwatch-operator import`).
//!
//! A kind implements [`Importable`]: how to list its AWS objects and read their tags, and the
//! object that manages one as it is. [`import`] does the rest the same way for every kind: it
//! keeps what the filters select (name prefix, tags), skips with a note what an operator already
//! owns or the kind cannot hold, names each object, gives it how imported objects are managed
//! ([`ImportSettings`]), and leaves out of each manifest every field the kind's desired step
//! would fill back in with the same value, so that `plan` on the result finds nothing to change
//! and the YAML is what a person would write.

use super::ManagedKind;
use crate::aws::Aws;
use crate::common_fields::{Adoption, CommonSpec, DeletionPolicy, ManagementPolicy};
use crate::error::Result;
use crate::minimal::leave_out_defaults;
use crate::ownership::describe_owner;
use crate::vocabulary::OWNERSHIP_TAGS;
use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

/// One AWS object as an import finds it.
#[derive(Clone, Debug)]
pub struct Found<R> {
    /// What the kind's read returned.
    pub record: R,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
}

#[cfg(test)]
impl<R> Found<R> {
    /// `record` with no tags, as a kind without tags finds it.
    pub fn untagged(record: R) -> Self {
        Found {
            record,
            tags: BTreeMap::new(),
        }
    }
}

/// What holds an AWS object whose name is unique only within it (a filter's log group).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holder<'a> {
    /// What it is, in words (`log group`).
    pub noun: &'static str,
    /// Its name.
    pub name: &'a str,
}

/// A kind `import` can bring under management.
pub trait Importable: ManagedKind {
    /// One AWS object as the kind's read returns it.
    type Record: Send + Sync;

    /// What an AWS object of the kind is, in words, for notes (`alarm`, `metric filter`).
    const AWS_NOUN: &'static str;

    /// Every AWS object of the kind in `region`. Where AWS takes a name prefix, `prefix` narrows
    /// the read; [`import`] keeps only the names that start with it either way.
    fn list(
        aws: &Aws,
        region: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<Self::Record>>> + Send;

    /// The AWS object's tags. None by default: an AWS object that carries no tags (a filter)
    /// cannot say which operator owns it, so each is imported and adoption settles ownership,
    /// and a `--tag` filter selects none of them.
    fn tags(
        _aws: &Aws,
        _region: &str,
        _record: &Self::Record,
    ) -> impl Future<Output = Result<BTreeMap<String, String>>> + Send {
        async { Ok(BTreeMap::new()) }
    }

    /// The AWS object's name: what `--prefix` selects by and the object is named after.
    fn record_name(record: &Self::Record) -> &str;

    /// What holds the AWS object, where its name is unique only within that (none: the region).
    fn holder(_record: &Self::Record) -> Option<Holder<'_>> {
        None
    }

    /// Why an AWS object of this kind is left alone whoever owns it, if it is (X-Ray's built-in
    /// rule, which every region holds; a value the spec cannot hold).
    fn not_imported(_record: &Self::Record) -> Option<String> {
        None
    }

    /// The object that manages `found` as it is, named `name`, with `common`; `names` tells
    /// which objects this import names for which AWS objects (a composite's rule refers to the
    /// imported Alarms by `alarmRef`). The AWS name is always spelled out: [`import`] leaves it
    /// out where the object's name already says it.
    fn manifest(
        found: &Found<Self::Record>,
        name: &str,
        common: CommonSpec,
        names: &ImportNames,
    ) -> Self;

    /// Spec fields written even where leaving them out would ask AWS for the same: those the
    /// schema requires by a rule of its own (CEL) rather than by their type.
    const ALWAYS_WRITTEN: &'static [&'static str] = &[];

    /// Whether `a` and `b` ask AWS for the same object and configuration: the kind's desired
    /// step gives the same for both.
    fn same_request(a: &Self, b: &Self, names: &ImportNames) -> bool;
}

/// What identifies an AWS object of kind `K` in its region: its name, after its holder's name
/// and `:` where it has one (log group names never hold `:`, so the pair reads back
/// unambiguously).
pub fn identity<K: Importable>(record: &K::Record) -> String {
    let name = K::record_name(record);
    match K::holder(record) {
        Some(holder) => format!("{}:{name}", holder.name),
        None => name.to_string(),
    }
}

/// The AWS object in words, for notes: `alarm "cpu"`, `metric filter "errors" on log group
/// "/app"`.
pub fn described<K: Importable>(record: &K::Record) -> String {
    let mut words = format!("{} {:?}", K::AWS_NOUN, K::record_name(record));
    if let Some(holder) = K::holder(record) {
        words.push_str(&format!(" on {} {:?}", holder.noun, holder.name));
    }
    words
}

/// Which Kubernetes object names an import gives to which AWS objects, per kind and region, so
/// that every name is unique within its kind and a later kind can refer to an earlier one.
#[derive(Clone, Debug, Default)]
pub struct ImportNames {
    /// (kind, region, identity) → object name.
    by_identity: BTreeMap<(&'static str, String, String), String>,
    taken: BTreeSet<(&'static str, String)>,
}

/// Longest Kubernetes object name (a DNS subdomain).
const MAX_NAME: usize = 253;

impl ImportNames {
    /// The name given to the `kind` object for the AWS object `identity` in `region`, if it was
    /// imported.
    pub fn object_name(&self, kind: &str, region: &str, identity: &str) -> Option<&str> {
        self.by_identity
            .iter()
            .find(|((k, r, i), _)| *k == kind && r == region && i == identity)
            .map(|(_, name)| name.as_str())
    }

    /// The AWS object (its identity) the `kind` object `name` was given to.
    pub fn identity(&self, kind: &str, name: &str) -> Option<&str> {
        self.by_identity
            .iter()
            .find(|((k, _, _), n)| *k == kind && n.as_str() == name)
            .map(|((_, _, identity), _)| identity.as_str())
    }

    /// Names the `kind` object for the AWS object `identity` in `region` after `basis`: lower
    /// case, letters, digits and `-` (anything else becomes `-`), and a short hash of the
    /// identity when that name was changed, cut, or is taken already (by the same identity in
    /// another region, a hash of the region too).
    pub fn assign(
        &mut self,
        kind: &'static str,
        region: &str,
        identity: &str,
        basis: &str,
    ) -> String {
        let mut name = String::new();
        for c in basis.chars() {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                name.push(c);
            } else if !name.ends_with('-') {
                name.push('-');
            }
        }
        let mut name = name.trim_matches('-').to_string();
        if name.is_empty() {
            name = kind.to_ascii_lowercase();
        }
        let exact = name == basis && name.len() <= MAX_NAME;
        if !exact || self.taken.contains(&(kind, name.clone())) {
            let stem = name;
            let hashed = |hashed: &str| {
                let hash = short_hash(hashed);
                let mut name = stem.clone();
                name.truncate(MAX_NAME - hash.len() - 1);
                format!("{}-{hash}", name.trim_end_matches('-'))
            };
            name = hashed(identity);
            if self.taken.contains(&(kind, name.clone())) {
                name = hashed(&format!("{region}/{identity}"));
            }
        }
        self.taken.insert((kind, name.clone()));
        self.by_identity.insert(
            (kind, region.to_string(), identity.to_string()),
            name.clone(),
        );
        name
    }
}

/// Eight hex digits of a stable hash (FNV-1a) of `s`.
fn short_hash(s: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{h:08x}")
}

/// What to import, and how the manifests manage what they take over.
#[derive(Clone, Debug)]
pub struct ImportSettings {
    /// Only AWS objects whose name starts with this.
    pub prefix: String,
    /// Only AWS objects carrying every one of these tags.
    pub tags: BTreeMap<String, String>,
    /// The namespace written into each manifest (none: `kubectl apply -n` decides).
    pub namespace: Option<String>,
    pub adoption: Adoption,
    pub deletion_policy: DeletionPolicy,
}

/// Everything selected, taken over only where no operator owns it (`adoption: IfUnowned`), and
/// left in AWS when the object is deleted (`deletionPolicy: Retain`): importing must never be
/// the step that takes an object from another owner or deletes it.
impl Default for ImportSettings {
    fn default() -> Self {
        ImportSettings {
            prefix: String::new(),
            tags: BTreeMap::new(),
            namespace: None,
            adoption: Adoption::IfUnowned,
            deletion_policy: DeletionPolicy::Retain,
        }
    }
}

/// One manifest of an import.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    pub kind: &'static str,
    pub name: String,
    /// The AWS object in words.
    pub aws_object: String,
    /// The manifest, defaults left out.
    pub manifest: Value,
}

/// An AWS object an import leaves alone, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub aws_object: String,
    pub why: String,
}

/// Imports every AWS object of kind `K` in `region` that `settings` selects. Names are recorded
/// in `names` for the kinds imported after this one.
pub async fn import<K: Importable>(
    aws: &Aws,
    region: &str,
    settings: &ImportSettings,
    names: &mut ImportNames,
) -> Result<(Vec<Imported>, Vec<Skipped>)> {
    let listed = K::list(aws, region, &settings.prefix).await?;
    let records = with_prefix::<K>(listed, &settings.prefix);
    let tags = futures::future::join_all(records.iter().map(|r| K::tags(aws, region, r))).await;
    let mut found = Vec::with_capacity(records.len());
    for (record, tags) in records.into_iter().zip(tags) {
        found.push(Found {
            record,
            tags: tags?,
        });
    }
    Ok(take_over::<K>(region, found, settings, names))
}

/// The records whose name starts with `prefix`, in the order listed: read before their tags, so
/// that no tag read is spent on an object the import leaves out.
fn with_prefix<K: Importable>(records: Vec<K::Record>, prefix: &str) -> Vec<K::Record> {
    records
        .into_iter()
        .filter(|r| K::record_name(r).starts_with(prefix))
        .collect()
}

/// The manifests that take over `found` (AWS objects of kind `K` in `region`), and the objects
/// left alone with a note: those without every tag `settings` asks for are passed over, those
/// the kind cannot hold or an operator owns are skipped, and every other one is named and
/// managed as `settings` says.
fn take_over<K: Importable>(
    region: &str,
    found: Vec<Found<K::Record>>,
    settings: &ImportSettings,
    names: &mut ImportNames,
) -> (Vec<Imported>, Vec<Skipped>) {
    let mut imported = Vec::new();
    let mut skipped = Vec::new();
    for f in found {
        let wanted = settings.tags.iter().all(|(k, v)| f.tags.get(k) == Some(v));
        if !wanted {
            continue;
        }
        let aws_object = format!("{} in {region}", described::<K>(&f.record));
        if let Some(why) = K::not_imported(&f.record) {
            skipped.push(Skipped { aws_object, why });
            continue;
        }
        if let Some(owner) = describe_owner(&f.tags) {
            skipped.push(Skipped {
                aws_object,
                why: format!("managed by {owner}"),
            });
            continue;
        }
        let name = names.assign(
            K::KIND,
            region,
            &identity::<K>(&f.record),
            K::record_name(&f.record),
        );
        let common = CommonSpec {
            region: Some(region.to_string()),
            deletion_policy: settings.deletion_policy,
            adoption: settings.adoption,
            management_policy: ManagementPolicy::Manage,
            // What import reads is in the operator's own account.
            account_ref: None,
        };
        let mut obj = K::manifest(&f, &name, common, names);
        obj.meta_mut().namespace = settings.namespace.clone();
        imported.push(Imported {
            kind: K::KIND,
            name,
            aws_object,
            manifest: minimal_manifest(&obj, names),
        });
    }
    (imported, skipped)
}

/// The region the kinds' tests import from.
#[cfg(test)]
pub const TEST_REGION: &str = "us-east-1";

/// What an import with the default settings makes of `found` in [`TEST_REGION`]: its manifest,
/// or why it is left alone. For the kinds' tests of their manifests.
#[cfg(test)]
pub fn import_one<K: Importable>(
    found: Found<K::Record>,
    names: &mut ImportNames,
) -> std::result::Result<Imported, Skipped> {
    let settings = ImportSettings::default();
    match take_over::<K>(TEST_REGION, vec![found], &settings, names) {
        (mut imported, _) if imported.len() == 1 => Ok(imported.remove(0)),
        (_, mut skipped) if skipped.len() == 1 => Err(skipped.remove(0)),
        (imported, skipped) => panic!("one object, {imported:?} and {skipped:?}"),
    }
}

/// The tags a spec should carry for an AWS object tagged `tags`: all but AWS's own (`aws:`) and
/// the operator's ownership tags.
pub fn user_tags(tags: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    tags.iter()
        .filter(|(k, _)| !k.starts_with("aws:") && !OWNERSHIP_TAGS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The fields every spec has that say how the object is managed, not what AWS holds: the kinds'
/// desired steps never read them, so they are settled here rather than by `same_request`.
const COMMON_KEYS: [&str; 4] = ["region", "deletionPolicy", "adoption", "managementPolicy"];

/// `obj` as YAML with every spec field left out that `K::same_request` shows to be implied, and
/// the common fields at their defaults left out too (the region is always kept: the object must
/// land where its AWS object is, whatever the namespace or the operator would pick).
fn minimal_manifest<K: Importable>(obj: &K, names: &ImportNames) -> Value {
    let mut manifest = serde_yaml::to_value(obj).expect("objects serialize");
    if let Value::Mapping(m) = &mut manifest {
        m.shift_remove("status");
    }
    let spec = manifest.get("spec").cloned().unwrap_or(Value::Null);
    let keep: Vec<&str> = COMMON_KEYS
        .iter()
        .chain(K::ALWAYS_WRITTEN)
        .copied()
        .chain(["tags"])
        .collect();
    let mut spec = leave_out_defaults(spec, &keep, |candidate| {
        let mut with = manifest.clone();
        with["spec"] = candidate.clone();
        serde_yaml::from_value::<K>(with).is_ok_and(|c| K::same_request(&c, obj, names))
    });
    if let Value::Mapping(m) = &mut spec {
        let defaults = [
            ("deletionPolicy", "Delete"),
            ("adoption", "Never"),
            ("managementPolicy", "Manage"),
        ];
        for (key, default) in defaults {
            if m.get(key).and_then(Value::as_str) == Some(default) {
                m.shift_remove(key);
            }
        }
    }
    manifest["spec"] = spec;
    if let Some(Value::Mapping(meta)) = manifest.get_mut("metadata") {
        meta.retain(|k, _| matches!(k.as_str(), Some("name" | "namespace")));
    }
    manifest
}

#[cfg(test)]
mod tests {
    use super::super::shell_tests::{Script, Widget, WidgetSpec};
    use super::*;
    use crate::vocabulary::OWNER_TAG;
    use kube::ResourceExt;

    const R: &str = "us-east-1";

    /// An AWS object of the made-up kind the shell's tests manage: a gadget, whose name is
    /// unique only on its shelf where it has one.
    #[derive(Clone, Debug)]
    pub struct Gadget {
        name: &'static str,
        shelf: Option<&'static str>,
        tags: &'static [(&'static str, &'static str)],
        /// A gadget the kind cannot hold.
        odd: bool,
    }

    const fn gadget(name: &'static str, tags: &'static [(&'static str, &'static str)]) -> Gadget {
        Gadget {
            name,
            shelf: None,
            tags,
            odd: false,
        }
    }

    const TEAM_A: &[(&str, &str)] = &[("team", "a")];

    /// What "AWS" holds for the tests of [`import`], in the order it lists them.
    static GADGETS: [Gadget; 6] = [
        gadget("plain", TEAM_A),
        gadget(
            "owned",
            &[("team", "a"), (OWNER_TAG, "c2/team-b/Widget/owned")],
        ),
        Gadget {
            odd: true,
            ..gadget("odd", TEAM_A)
        },
        gadget("untagged", &[]),
        Gadget {
            shelf: Some("top"),
            ..gadget("shelved", TEAM_A)
        },
        Gadget {
            shelf: Some("bottom"),
            ..gadget("shelved", TEAM_A)
        },
    ];

    impl Importable for Widget {
        type Record = Gadget;
        const AWS_NOUN: &'static str = "gadget";

        async fn list(_aws: &Aws, _region: &str, _prefix: &str) -> Result<Vec<Gadget>> {
            Ok(GADGETS.to_vec())
        }

        async fn tags(
            _aws: &Aws,
            _region: &str,
            record: &Gadget,
        ) -> Result<BTreeMap<String, String>> {
            Ok(record
                .tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect())
        }

        fn record_name(record: &Gadget) -> &str {
            record.name
        }

        fn holder(record: &Gadget) -> Option<Holder<'_>> {
            record.shelf.map(|name| Holder {
                noun: "shelf",
                name,
            })
        }

        fn not_imported(record: &Gadget) -> Option<String> {
            record
                .odd
                .then(|| "a gadget no Widget can hold".to_string())
        }

        fn manifest(
            _found: &Found<Gadget>,
            name: &str,
            common: CommonSpec,
            _names: &ImportNames,
        ) -> Widget {
            Widget::new(
                name,
                WidgetSpec {
                    common,
                    script: Script::Ready,
                },
            )
        }

        fn same_request(a: &Widget, b: &Widget, _names: &ImportNames) -> bool {
            a.spec.script == b.spec.script
        }
    }

    /// An AWS client whose calls would go nowhere: the made-up kind never calls AWS.
    async fn no_aws() -> Aws {
        let settings = crate::aws::AwsSettings {
            default_region: Some(R.into()),
            endpoint_url: Some("http://127.0.0.1:9".into()),
            ..Default::default()
        };
        Aws::load(
            settings,
            std::sync::Arc::new(crate::metrics::Metrics::new()),
        )
        .await
        .unwrap()
    }

    async fn import_gadgets(settings: &ImportSettings) -> (Vec<Imported>, Vec<Skipped>) {
        let mut names = ImportNames::default();
        import::<Widget>(&no_aws().await, R, settings, &mut names)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn by_default_every_unowned_object_is_taken_over_if_unowned_and_retained() {
        let (imported, skipped) = import_gadgets(&ImportSettings::default()).await;
        let names: Vec<&str> = imported.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names[..3], ["plain", "untagged", "shelved"]);
        // The second "shelved", on another shelf, is another object.
        assert!(names[3].starts_with("shelved-"), "{names:?}");
        assert_eq!(names.len(), 4);
        for i in &imported {
            let widget: Widget = serde_yaml::from_value(i.manifest.clone()).unwrap();
            assert_eq!(widget.name_any(), i.name);
            assert_eq!(widget.namespace(), None);
            let common = &widget.spec.common;
            assert_eq!(common.region.as_deref(), Some(R));
            assert_eq!(common.adoption, Adoption::IfUnowned);
            assert_eq!(common.deletion_policy, DeletionPolicy::Retain);
            assert_eq!(common.management_policy, ManagementPolicy::Manage);
            assert_eq!(common.account_ref, None);
        }
        assert_eq!(imported[0].aws_object, "gadget \"plain\" in us-east-1");
        assert_eq!(
            imported[3].aws_object,
            "gadget \"shelved\" on shelf \"bottom\" in us-east-1"
        );
        assert_eq!(
            skipped,
            [
                Skipped {
                    aws_object: "gadget \"owned\" in us-east-1".into(),
                    why: "managed by Widget team-b/owned in cluster c2".into(),
                },
                Skipped {
                    aws_object: "gadget \"odd\" in us-east-1".into(),
                    why: "a gadget no Widget can hold".into(),
                },
            ]
        );
    }

    #[tokio::test]
    async fn the_prefix_and_tags_select_and_the_settings_say_how_to_manage() {
        let settings = ImportSettings {
            prefix: "shel".into(),
            tags: BTreeMap::from([("team".to_string(), "a".to_string())]),
            namespace: Some("team-a".into()),
            adoption: Adoption::Force,
            deletion_policy: DeletionPolicy::Delete,
        };
        let (imported, skipped) = import_gadgets(&settings).await;
        assert_eq!(imported.len(), 2, "{imported:?}");
        assert_eq!(skipped, []);
        let spec = &imported[0].manifest["spec"];
        assert_eq!(imported[0].manifest["metadata"]["namespace"], "team-a");
        assert_eq!(spec["adoption"], "Force");
        // At its default, so left out.
        assert!(spec.get("deletionPolicy").is_none(), "{spec:?}");
        // A tag none carries selects none, and notes none of what it passes over.
        let settings = ImportSettings {
            tags: BTreeMap::from([("team".to_string(), "b".to_string())]),
            ..ImportSettings::default()
        };
        assert_eq!(import_gadgets(&settings).await, (vec![], vec![]));
        let settings = ImportSettings {
            prefix: "un".into(),
            ..ImportSettings::default()
        };
        let (imported, _) = import_gadgets(&settings).await;
        assert_eq!(imported.len(), 1);
        assert_eq!(imported[0].name, "untagged");
    }

    #[test]
    fn an_object_on_a_holder_is_identified_by_both_names() {
        let top = &GADGETS[4];
        assert_eq!(identity::<Widget>(top), "top:shelved");
        assert_eq!(identity::<Widget>(&GADGETS[0]), "plain");
        assert_eq!(
            described::<Widget>(top),
            "gadget \"shelved\" on shelf \"top\""
        );
    }

    #[test]
    fn names_are_valid_object_names_unique_per_kind_and_stable() {
        let mut names = ImportNames::default();
        assert_eq!(names.assign("Alarm", R, "cpu-high", "cpu-high"), "cpu-high");
        let spaced = names.assign("Alarm", R, "CPU High", "CPU High");
        assert!(spaced.starts_with("cpu-high-"), "{spaced}");
        assert_eq!(spaced.len(), "cpu-high-".len() + 8);
        // Another kind may reuse a name.
        assert_eq!(
            names.assign("CompositeAlarm", R, "cpu-high", "cpu-high"),
            "cpu-high"
        );
        assert_eq!(
            names.object_name("Alarm", R, "CPU High"),
            Some(spaced.as_str())
        );
        assert_eq!(names.object_name("Alarm", R, "cpu-high"), Some("cpu-high"));
        assert_eq!(names.object_name("Alarm", R, "missing"), None);
        assert_eq!(names.identity("Alarm", &spaced), Some("CPU High"));
        assert_eq!(names.identity("SamplingRule", &spaced), None);
        // The same identity is named the same in another import.
        let mut again = ImportNames::default();
        again.assign("Alarm", R, "cpu-high", "cpu-high");
        assert_eq!(again.assign("Alarm", R, "CPU High", "CPU High"), spaced);
    }

    #[test]
    fn the_same_aws_name_in_three_regions_gets_three_names_each_found_by_its_region() {
        let mut names = ImportNames::default();
        let regions = ["us-east-1", "eu-west-1", "ap-south-1"];
        let given: BTreeSet<String> = regions
            .iter()
            .map(|r| names.assign("Alarm", r, "cpu", "cpu"))
            .collect();
        assert_eq!(given.len(), 3, "{given:?}");
        for r in regions {
            let name = names.object_name("Alarm", r, "cpu").unwrap();
            assert!(given.contains(name));
        }
        assert_eq!(names.object_name("Alarm", "us-east-1", "cpu"), Some("cpu"));
    }

    #[test]
    fn names_at_the_extremes_are_cut_to_fit_and_never_empty() {
        let mut names = ImportNames::default();
        let long = "a".repeat(300);
        let cut = names.assign("Alarm", R, &long, &long);
        assert_eq!(cut.len(), MAX_NAME);
        assert!(
            cut.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
        let symbols = names.assign("SamplingRule", R, "***", "***");
        assert!(symbols.starts_with("samplingrule-"), "{symbols}");
        let dotted = names.assign("Alarm", R, "app.errors", "app.errors");
        assert!(dotted.starts_with("app-errors-"), "{dotted}");
    }

    #[test]
    fn user_tags_leave_out_aws_and_ownership_tags() {
        let tags = BTreeMap::from([
            ("team".to_string(), "a".to_string()),
            ("aws:cloudformation:stack-name".to_string(), "s".to_string()),
            ("cwo.dev/owner-uid".to_string(), "u".to_string()),
        ]);
        assert_eq!(
            user_tags(&tags),
            BTreeMap::from([("team".to_string(), "a".to_string())])
        );
    }
}
