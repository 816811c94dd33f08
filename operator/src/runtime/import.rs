//! Existing AWS objects as the manifests that take them over (`cloudwatch-operator import`).
//!
//! A kind implements [`Importable`]: how to list its AWS objects with their tags, and the object
//! that manages one as it is. [`import`] filters what was found (name prefix, tags), skips what
//! an operator already owns, names each object, and leaves out of each manifest every field the
//! kind's desired step would fill back in with the same value, so that `plan` on the result
//! finds nothing to change and the YAML is what a person would write.

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

/// A kind `import` can bring under management.
pub trait Importable: ManagedKind {
    /// One AWS object as the kind's read returns it.
    type Record: Send + Sync;

    /// Every AWS object of the kind in `region` whose name starts with `prefix`, with its tags.
    fn find(
        aws: &Aws,
        region: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<Found<Self::Record>>>> + Send;

    /// What identifies the AWS object in its region (a name; a filter's log group and name).
    fn identity(record: &Self::Record) -> String;

    /// What to name the Kubernetes object after (the AWS name).
    fn name_basis(record: &Self::Record) -> String {
        Self::identity(record)
    }

    /// The AWS object in words, for notes (`alarm "cpu"`).
    fn describe_record(record: &Self::Record) -> String;

    /// Why an AWS object of this kind is left alone whoever owns it, if it is (X-Ray's built-in
    /// rule, which every region holds).
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
    let found = K::find(aws, region, &settings.prefix).await?;
    let mut imported = Vec::new();
    let mut skipped = Vec::new();
    for f in found {
        let wanted = settings.tags.iter().all(|(k, v)| f.tags.get(k) == Some(v));
        if !wanted {
            continue;
        }
        let aws_object = format!("{} in {region}", K::describe_record(&f.record));
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
            &K::identity(&f.record),
            &K::name_basis(&f.record),
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
    Ok((imported, skipped))
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

/// [`minimal_manifest`], for the kinds' tests of their manifests.
#[cfg(test)]
pub fn minimal_manifest_for_test<K: Importable>(obj: &K, names: &ImportNames) -> Value {
    minimal_manifest(obj, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: &str = "us-east-1";

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
