//! Spec and status fields every kind shares (DESIGN.md, "Custom resources"). Each kind's spec
//! flattens [`CommonSpec`] and each kind's status flattens [`CommonStatus`], so the shared
//! controller runtime can read and write them without knowing the kind.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::KubeSchema;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::vocabulary::OWNERSHIP_TAGS;

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
/// The region and account rules are transition rules on the whole struct rather than
/// `self == oldSelf` on the field: a field rule is not evaluated when the field is removed, and
/// removing the region (or the account) would move the object to the namespace's or the
/// operator's default.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new(
    "!has(oldSelf.region) || (has(self.region) && self.region == oldSelf.region)"
).message(
    "region cannot be changed or removed once set: the AWS object lives in that region. To move it, create a new object with the new region and delete this one"
).field_path(".region"))]
#[x_kube(validation = Rule::new(
    "!has(oldSelf.accountRef) || (has(self.accountRef) && self.accountRef == oldSelf.accountRef)"
).message(
    "accountRef cannot be changed or removed once set: the AWS object lives in that account. To move it, create a new object that names the other account and delete this one"
).field_path(".accountRef"))]
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
    /// Name of the `AWSAccount` (a cluster-scoped object a cluster admin writes) whose AWS
    /// account this object lives in: the operator assumes that account's IAM role for every AWS
    /// call made for this object. When unset, the namespace annotation `cwo.dev/account` applies,
    /// then the operator's own credentials. The AWSAccount must allow this object's namespace (and
    /// region); otherwise the object stops with `AccountNotAllowed` and nothing is called in AWS.
    /// The account in use is recorded in `status.account` and never changes silently. Once set,
    /// this field cannot be changed or removed: to move an object to another account, create a
    /// new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 1, max = 253),
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
    )]
    pub account_ref: Option<String>,
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
    #[schemars(range(min = 0))]
    pub observed_generation: Option<i64>,
    /// `Ready` and `Synced`, with a reason from a closed set and a message for people; plus
    /// `Reconciling=True` while the operator is still working on the object (retried reasons)
    /// or `Stalled=True` when it waits for a spec change (terminal reasons), the conditions
    /// kstatus-based tools (Flux, `helm install --wait`) read.
    /// A map keyed by `type`, so server-side apply merges conditions one by one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "condition_list_schema")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// ARN of the AWS object, where AWS gives it one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// AWS region the object lives in. Recorded on first reconcile and never changed after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The `AWSAccount` the object lives in, recorded with the region and never changed after;
    /// absent when the object lives in the operator's own account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The 12-digit id of the AWS account the object lives in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Name of the AWS object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_name: Option<String>,
}

/// The schema of `status.conditions`: a list of `metav1.Condition` with the validation upstream
/// CRDs carry for it (the markers on the Go type: status True, False or Unknown, a CamelCase
/// reason, message and type limits), which k8s-openapi's schema leaves out. A status the API
/// server would refuse then fails here as it would for any other controller's conditions.
pub fn condition_list_schema(generator: &mut SchemaGenerator) -> Schema {
    let mut item = Condition::json_schema(generator);
    let limits = [
        ("lastTransitionTime", json!({ "format": "date-time" })),
        ("message", json!({ "maxLength": 32768 })),
        ("observedGeneration", json!({ "minimum": 0 })),
        (
            "reason",
            json!({
                "minLength": 1,
                "maxLength": 1024,
                "pattern": CONDITION_REASON_PATTERN
            }),
        ),
        ("status", json!({ "enum": ["True", "False", "Unknown"] })),
        (
            "type",
            json!({ "maxLength": 316, "pattern": CONDITION_TYPE_PATTERN }),
        ),
    ];
    let properties = item
        .get_mut("properties")
        .and_then(serde_json::Value::as_object_mut)
        .expect("metav1.Condition's schema lists its properties");
    for (field, extra) in limits {
        let property = properties
            .get_mut(field)
            .and_then(serde_json::Value::as_object_mut)
            .unwrap_or_else(|| panic!("metav1.Condition has no {field}"));
        property.extend(extra.as_object().expect("a JSON object").clone());
    }
    json_schema!({ "type": "array", "items": item })
}

/// `metav1.Condition.reason`: CamelCase, as upstream validates it.
pub const CONDITION_REASON_PATTERN: &str = "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$";

/// `metav1.Condition.type`: CamelCase, optionally prefixed with a DNS subdomain and `/`.
pub const CONDITION_TYPE_PATTERN: &str = r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$";

/// Most tags one AWS object may carry (CloudWatch alarms and metric streams, X-Ray rules).
pub const MAX_TAGS: usize = 50;

/// Most tags a spec may list. The operator's ownership tags count toward AWS's limit like any
/// other, so they take their share of it: a spec at the schema's limit still fits in AWS.
pub const MAX_USER_TAGS: usize = MAX_TAGS - OWNERSHIP_TAGS.len();

/// The characters X-Ray allows in tag keys and values: Unicode letters, numbers and separators
/// (such as the space), and `+ - = . _ : /` (X-Ray API reference, `Tag`). A regular expression
/// both for the schema's `pattern` and for CEL.
const XRAY_TAG_CHARACTERS: &str = r"^[\p{L}\p{Z}\p{N}+=._:/-]*$";

/// Tags to put on a CloudWatch object (alarm, composite alarm, metric stream), as a map from key
/// to value.
///
/// The schema carries AWS's limits (keys of 1 to 128 characters, values of at most 256), leaves
/// room for the operator's ownership tags in AWS's 50 ([`MAX_USER_TAGS`]), and refuses keys AWS
/// reserves (`aws:` in any case) and keys the operator writes itself (`cwo.dev/`, the ownership
/// tags): a user tag there would fight the operator on every resync.
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
        tags_schema(json!({ "type": "string", "maxLength": 256 }), Vec::new())
    }
}

/// Tags to put on an X-Ray sampling rule: the limits of [`Tags`], plus X-Ray's character set for
/// keys and values, and values of at most 255 characters (X-Ray's reference states 255 in words
/// and 256 as the length constraint; the operator keeps to the tighter, as its owner tag does).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct XRayTags(pub Tags);

impl XRayTags {
    /// Whether there are no tags.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Deref for XRayTags {
    type Target = Tags;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl From<BTreeMap<String, String>> for XRayTags {
    fn from(tags: BTreeMap<String, String>) -> Self {
        Self(Tags(tags))
    }
}

impl JsonSchema for XRayTags {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "XRayTags".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        tags_schema(
            json!({ "type": "string", "maxLength": 255, "pattern": XRAY_TAG_CHARACTERS }),
            vec![json!({
                "rule": format!("self.all(k, k.matches(r'{XRAY_TAG_CHARACTERS}'))"),
                "message": "X-Ray tag keys may hold only letters, digits, spaces and + - = . _ : /"
            })],
        )
    }
}

/// The characters CloudWatch Logs allows in tag keys and values: Unicode letters, numbers and
/// separators, and `_ . : / = + - @` (CloudWatch Logs API reference, `TagResource`).
const LOGS_TAG_CHARACTERS: &str = r"^[\p{L}\p{Z}\p{N}_.:/=+@-]*$";

/// Tags to put on a CloudWatch Logs resource (a destination): the limits of [`Tags`], plus the
/// character set CloudWatch Logs allows in keys and values.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct LogsTags(pub Tags);

impl LogsTags {
    /// Whether there are no tags.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Deref for LogsTags {
    type Target = Tags;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl From<BTreeMap<String, String>> for LogsTags {
    fn from(tags: BTreeMap<String, String>) -> Self {
        Self(Tags(tags))
    }
}

impl JsonSchema for LogsTags {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "LogsTags".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        tags_schema(
            json!({ "type": "string", "maxLength": 256, "pattern": LOGS_TAG_CHARACTERS }),
            vec![json!({
                "rule": format!("self.all(k, k.matches(r'{LOGS_TAG_CHARACTERS}'))"),
                "message": "CloudWatch Logs tag keys may hold only letters, digits, spaces and _ . : / = + - @"
            })],
        )
    }
}

/// The schema of a tag map: at most [`MAX_USER_TAGS`] entries whose values follow `value`, keys
/// of 1 to 128 characters outside the `aws:` and `cwo.dev/` prefixes, and `key_rules` on top.
fn tags_schema(value: serde_json::Value, key_rules: Vec<serde_json::Value>) -> Schema {
    let mut rules = vec![
        json!({
            "rule": "self.all(k, size(k) >= 1 && size(k) <= 128)",
            "message": "tag keys must be 1 to 128 characters long"
        }),
        // AWS reserves the prefix whatever its case: `AWS:` and `Aws:` are refused as well.
        json!({
            "rule": "self.all(k, !k.lowerAscii().startsWith('aws:'))",
            "message": "tag keys starting with aws: (in any letter case) are reserved by AWS; choose another key"
        }),
        json!({
            "rule": "self.all(k, !k.startsWith('cwo.dev/'))",
            "message": "tag keys starting with cwo.dev/ are reserved for the operator's ownership tags; choose another key"
        }),
    ];
    rules.extend(key_rules);
    json_schema!({
        "type": "object",
        "maxProperties": MAX_USER_TAGS,
        "additionalProperties": value,
        "x-kubernetes-validations": rules
    })
}
