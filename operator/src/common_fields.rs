//! Spec and status fields every kind shares (DESIGN.md, "Custom resources"). Each kind's spec
//! flattens [`CommonSpec`] and each kind's status flattens [`CommonStatus`], so the shared
//! controller runtime can read and write them without knowing the kind.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::KubeSchema;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// What happens to the AWS object when the Kubernetes object is deleted.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
pub enum DeletionPolicy {
    /// Delete the AWS object, then release the Kubernetes object.
    #[default]
    Delete,
    /// Leave the AWS object in place and release the Kubernetes object.
    Retain,
}

/// What to do when the AWS object already exists and this object did not create it.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
pub enum Adoption {
    /// Never take over an existing AWS object; report `AlreadyExistsUnowned` instead.
    #[default]
    Never,
    /// Take over an existing AWS object only if no other Kubernetes object owns it (it carries no
    /// `cwo.dev/owner` tag).
    IfUnowned,
    /// Take over an existing AWS object even if another Kubernetes object owns it.
    Force,
}

/// Whether the operator writes to AWS for this object.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
pub enum ManagementPolicy {
    /// Create, update and delete the AWS object to match the spec.
    #[default]
    Manage,
    /// Only read the AWS object and report it in status; never write to AWS.
    ObserveOnly,
}

/// Spec fields every kind carries (flattened into each kind's spec).
///
/// The region rule is a transition rule on the whole struct rather than `self == oldSelf` on the
/// field: a field rule is not evaluated when the field is removed, and removing the region would
/// move the object to the namespace's or the operator's default region.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new(
    "!has(oldSelf.region) || (has(self.region) && self.region == oldSelf.region)"
).message(
    "region cannot be changed or removed once set: the AWS object lives in that region. To move it, create a new object with the new region and delete this one"
).field_path(".region"))]
pub struct CommonSpec {
    /// AWS region of the object, for example `eu-west-1`. When unset, the namespace annotation
    /// `cwo.dev/region` applies, then the operator's default region. The region in use is recorded
    /// in `status.region` and never changes silently. Once set, this field cannot be changed or
    /// removed: to move an object to another region, create a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 32),
        regex(pattern = r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")
    )]
    pub region: Option<String>,
    /// What happens to the AWS object when this object is deleted: `Delete` (default) removes it
    /// from AWS, `Retain` leaves it in AWS.
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,
    /// What to do when the AWS object already exists and this object did not create it: `Never`
    /// (default) reports it and leaves it alone, `IfUnowned` takes it over when no other object owns
    /// it, `Force` takes it over in any case.
    #[serde(default)]
    pub adoption: Adoption,
    /// `Manage` (default) makes AWS match the spec; `ObserveOnly` only reads the AWS object and
    /// reports it in status, never writing to AWS.
    #[serde(default)]
    pub management_policy: ManagementPolicy,
}

/// Status fields every kind reports (flattened into each kind's status).
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CommonStatus {
    /// The `metadata.generation` this status describes. `0` until the operator first reconciles
    /// the object (generations start at 1), so tools comparing the two see work still to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Ready` and `Synced`, with a reason from a closed set and a message for people; plus
    /// `Reconciling=True` while the operator is still working on the object (retried reasons)
    /// or `Stalled=True` when it waits for a spec change (terminal reasons), the conditions
    /// kstatus-based tools (Flux, `helm install --wait`) read.
    /// A map keyed by `type`, so server-side apply merges conditions one by one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// ARN of the AWS object, where AWS gives it one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// AWS region the object lives in. Recorded on first reconcile and never changed after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Name of the AWS object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_name: Option<String>,
}

/// Most tags one AWS object may carry (CloudWatch alarms and metric streams, X-Ray rules).
pub const MAX_TAGS: u32 = 50;

/// Tags to put on an AWS object, as a map from key to value.
///
/// The schema carries AWS's limits (at most 50 tags, keys of 1 to 128 characters, values of at
/// most 256) and refuses keys AWS reserves (`aws:`) and keys the operator writes itself
/// (`cwo.dev/`, the ownership tags): a user tag there would fight the operator on every resync.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Tags(pub BTreeMap<String, String>);

impl Tags {
    /// Whether there are no tags.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Deref for Tags {
    type Target = BTreeMap<String, String>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Tags {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl From<BTreeMap<String, String>> for Tags {
    fn from(tags: BTreeMap<String, String>) -> Self {
        Self(tags)
    }
}

impl JsonSchema for Tags {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Tags".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "maxProperties": MAX_TAGS,
            "additionalProperties": { "type": "string", "maxLength": 256 },
            "x-kubernetes-validations": [
                {
                    "rule": "self.all(k, size(k) >= 1 && size(k) <= 128)",
                    "message": "tag keys must be 1 to 128 characters long"
                },
                {
                    "rule": "self.all(k, !k.startsWith('aws:') && !k.startsWith('AWS:'))",
                    "message": "tag keys starting with aws: are reserved by AWS; choose another key"
                },
                {
                    "rule": "self.all(k, !k.startsWith('cwo.dev/'))",
                    "message": "tag keys starting with cwo.dev/ are reserved for the operator's ownership tags; choose another key"
                }
            ]
        })
    }
}
