//! The `AWSAccount` custom resource: spec and status.
//!
//! Cluster-scoped, written by a cluster admin: the role the operator assumes in an AWS account,
//! and which namespaces (and regions) may use that account. A namespace's users name an account
//! with `spec.accountRef` (or their namespace's `cwo.dev/account` annotation) and can use only
//! what the admin granted here; they never name a role themselves.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, LabelSelector, Time};
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use crate::common_fields::condition_list_schema;

/// Session name when the spec gives none (it shows in the account's CloudTrail).
pub const DEFAULT_SESSION_NAME: &str = "cloudwatch-operator";
/// Session length when the spec gives none: AWS's own default, one hour.
pub const DEFAULT_SESSION_SECONDS: u32 = 3_600;

/// An AWS account the operator may work in, and who may use it.
// Each printer column repeats the keys of the others (`type_ = "string"`), which clippy reads as
// a duplicated attribute; the other kinds' `#[kube]` lists escape the lint only because their CEL
// rules are not plain literals.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[kube(
    group = "cwo.dev",
    version = "v1alpha1",
    kind = "AWSAccount",
    status = "AWSAccountStatus",
    derive = "PartialEq",
    shortname = "awsacct",
    category = "cloudwatch",
    doc = "AWSAccount is an AWS account cloudwatch-operator may manage CloudWatch objects in, written by a cluster admin: the IAM role the operator assumes there with STS AssumeRole (from its own credentials: IRSA, EKS Pod Identity or the default chain), and which namespaces may use the account, through spec.accountRef or the cwo.dev/account namespace annotation. An object whose namespace is not allowed stops with AccountNotAllowed and nothing is called in AWS. An AWSAccount is not released while an object still lives in it.",
    printcolumn(
        name = "Account",
        type_ = "string",
        json_path = ".status.accountId",
        description = "The AWS account id the assumed role belongs to"
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Ready")].status"#,
        description = "The operator can assume the role"
    ),
    printcolumn(
        name = "Synced",
        type_ = "string",
        json_path = r#".status.conditions[?(@.type=="Synced")].status"#,
        description = "The last check ran to completion"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    ),
    printcolumn(
        name = "Role",
        type_ = "string",
        json_path = ".spec.roleArn",
        priority = 1,
        description = "The IAM role the operator assumes"
    ),
    printcolumn(
        name = "Last AssumeRole",
        type_ = "date",
        json_path = ".status.lastAssumeRoleTime",
        priority = 1,
        description = "When AssumeRole succeeded for the session recorded in status"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct AWSAccountSpec {
    /// ARN of the IAM role the operator assumes in the account, for example
    /// `arn:aws:iam::210987654321:role/cloudwatch-operator`. Its trust policy must allow the
    /// operator's own identity (its IRSA or Pod Identity role) to call sts:AssumeRole, with the
    /// external ID when one is set.
    #[schemars(
        length(min = 20, max = 2048),
        regex(pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]+$")
    )]
    pub role_arn: String,

    /// The external ID the role's trust policy requires (condition `sts:ExternalId`), 2 to
    /// 1,224 characters of letters, digits and `_+=,.@:/-`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        length(min = 2, max = 1224),
        regex(pattern = r"^[A-Za-z0-9_+=,.@:/-]+$")
    )]
    pub external_id: Option<String>,

    /// The role session name, which the account's CloudTrail records for every call: 2 to 64
    /// characters of letters, digits and `_+=,.@-`. Default: `cloudwatch-operator`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 2, max = 64), regex(pattern = r"^[A-Za-z0-9_+=,.@-]+$"))]
    pub session_name: Option<String>,

    /// How long each set of temporary credentials lasts, in seconds: 900 (15 minutes) to 43,200
    /// (12 hours), and at most the role's maximum session duration. Default: 3600. The operator
    /// renews the credentials five minutes before they expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 900, max = 43200))]
    pub session_duration_seconds: Option<u32>,

    /// Namespaces whose objects may use this account, by name. A namespace is allowed when it
    /// is listed here or matches `namespaceSelector`; with neither set, no namespace is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = 1000),
        inner(
            length(min = 1, max = 63),
            regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
        )
    )]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub namespaces: Vec<String>,

    /// Namespaces whose objects may use this account, by their labels (the usual label
    /// selector: `matchLabels` and `matchExpressions`). An empty selector (`{}`) matches every
    /// namespace. Only a cluster admin can label namespaces, so a namespace's users cannot grant
    /// themselves an account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,

    /// The regions objects may use in this account, for example `eu-west-1`. Empty (the
    /// default): every region.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = 50),
        inner(
            length(min = 1, max = 32),
            regex(pattern = r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")
        )
    )]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub regions: Vec<String>,
}

/// What the operator found when it assumed the role.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AWSAccountStatus {
    /// The `metadata.generation` this status describes. `0` until the operator first checks the
    /// account (generations start at 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0))]
    pub observed_generation: Option<i64>,

    /// `Ready` (the operator can assume the role) and `Synced`, with a reason and a message;
    /// plus `Reconciling=True` while a recoverable problem is retried (AccessDenied while the
    /// role's trust policy refuses the operator) or `Stalled=True` when the spec must change.
    /// A map keyed by `type`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "condition_list_schema")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,

    /// The 12-digit id of the account, as GetCallerIdentity reports it with the assumed role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,

    /// The identity the operator works as in the account (the assumed-role session's ARN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_arn: Option<String>,

    /// When AssumeRole succeeded for the session recorded here. The operator renews its
    /// credentials five minutes before they expire, and a restarted operator assumes the role
    /// afresh; a newer session of the same caller is recorded once this one has expired, so
    /// neither rewrites status with nothing new to say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_assume_role_time: Option<Time>,

    /// When the temporary credentials of the recorded session expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_expiration: Option<Time>,

    /// AWS's answer to the last AssumeRole, when it failed; cleared by the next success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assume_role_error: Option<String>,
}
