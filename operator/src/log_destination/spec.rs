//! The `LogDestination` custom resource: spec and status.
//!
//! The spec mirrors PutDestination and PutDestinationPolicy (aws-sdk-cloudwatchlogs 1.162). AWS
//! identifies a destination by its name, fixed for the life of the object. The access policy is
//! either built from a list of sender accounts or given whole.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use crate::common_fields::{CommonSpec, CommonStatus, LogsTags};

/// Longest access policy CloudWatch Logs stores.
pub const MAX_POLICY_BYTES: usize = 5120;

/// The destination as it should be in CloudWatch Logs: the stream behind it, the role that
/// writes to it, and who may subscribe to it.
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[kube(
    group = "cwo.dev",
    version = "v1alpha1",
    kind = "LogDestination",
    namespaced,
    status = "LogDestinationStatus",
    derive = "PartialEq",
    shortname = "cwld",
    category = "cloudwatch",
    doc = "LogDestination is an AWS CloudWatch Logs destination managed by cloudwatch-operator: a named endpoint in the receiving account, in front of a Kinesis data stream or an Amazon Data Firehose delivery stream, that subscription filters (LogSubscription, through spec.destinationRef or its ARN) send log events to. Its access policy says which accounts may subscribe. The operator creates it with PutDestination and PutDestinationPolicy and reports its ARN in status.",
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#, description = "The destination exists in AWS and matches the spec"),
    printcolumn(name = "Synced", type_ = "string", json_path = r#".status.conditions[?(@.type=="Synced")].status"#, description = "The last reconcile with AWS succeeded"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(name = "Target", type_ = "string", json_path = ".spec.targetArn", priority = 1, description = "Stream the destination delivers to"),
    printcolumn(name = "ARN", type_ = "string", json_path = ".status.arn", priority = 1, description = "ARN of the destination, for subscription filters"),
    printcolumn(name = "Region", type_ = "string", json_path = ".status.region", priority = 1, description = "AWS region of the destination"),
    validation = Rule::new(
        "(has(self.spec.destinationName) ? self.spec.destinationName : self.metadata.name) == (has(oldSelf.spec.destinationName) ? oldSelf.spec.destinationName : oldSelf.metadata.name)"
    ).message(
        "destinationName cannot change: the name is the destination's identity. To rename, create a new LogDestination with the new name and delete this one"
    ).field_path(".spec.destinationName"),
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("has(self.senderAccountIds) != has(self.accessPolicy)").message(
        "set exactly one of senderAccountIds (the accounts allowed to subscribe; the operator writes the access policy) or accessPolicy (the whole policy document)"
    ),
)]
pub struct LogDestinationSpec {
    /// Region, deletion policy, adoption and management policy, shared by every kind.
    #[serde(flatten)]
    pub common: CommonSpec,

    /// Name of the destination, unique per account and region: 1 to 512 characters, no colon or
    /// asterisk. Defaults to metadata.name. It cannot be changed, added or removed later unless
    /// the resulting name stays the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512), regex(pattern = r"^[^:*]+$"))]
    pub destination_name: Option<String>,

    /// The stream behind the destination, in this account: the ARN of a Kinesis data stream
    /// (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME) or an Amazon Data Firehose delivery stream
    /// (arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME).
    #[schemars(length(min = 1, max = 2048))]
    #[x_kube(validation = Rule::new(
        "self.matches('^arn:aws[a-z-]*:(kinesis:[a-z0-9-]+:[0-9]{12}:stream/.+|firehose:[a-z0-9-]+:[0-9]{12}:deliverystream/.+)$')"
    ).message(
        "targetArn must be the ARN of a Kinesis data stream (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME) or a Firehose delivery stream (arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME)"
    ))]
    pub target_arn: String,

    /// ARN of the IAM role CloudWatch Logs assumes to write to the target, for example
    /// arn:aws:iam::123456789012:role/logs-to-kinesis. It must trust logs.amazonaws.com and
    /// allow kinesis:PutRecord (or firehose:PutRecord and firehose:PutRecordBatch) on the target;
    /// the operator needs iam:PassRole on it.
    #[schemars(length(min = 1, max = 2048))]
    #[x_kube(validation = Rule::new("self.matches('^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$')").message(
        "roleArn must be an IAM role ARN, for example arn:aws:iam::123456789012:role/logs-to-kinesis"
    ))]
    pub role_arn: String,

    /// The AWS accounts (12-digit ids) whose log groups may subscribe to this destination: the
    /// operator writes an access policy allowing logs:PutSubscriptionFilter on the destination
    /// to exactly these accounts. With subscriptions from this account only, list this
    /// account. At most 100, each once. Set this or accessPolicy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 100), inner(regex(pattern = r"^[0-9]{12}$")))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub sender_account_ids: Option<Vec<String>>,

    /// The whole access policy, an IAM policy document in JSON of at most 5120 characters, for
    /// conditions senderAccountIds cannot express (an organization, with aws:PrincipalOrgID). It
    /// is compared with AWS's as JSON, so formatting does not matter. Set this or
    /// senderAccountIds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 5120))]
    pub access_policy: Option<String>,

    /// Tags on the destination: at most 48 (AWS allows 50, and the operator's two ownership
    /// tags take two of them); keys of 1 to 128 characters, values of at most 256, both from
    /// letters, digits, spaces and _ . : / = + - @. Keys starting with aws: in any letter case
    /// (reserved by AWS) or cwo.dev/ (the operator's ownership tags) are refused. Changes are
    /// applied with TagResource and UntagResource. Default: none.
    #[serde(default, skip_serializing_if = "LogsTags::is_empty")]
    pub tags: LogsTags,
}

/// What the operator last saw of the destination in CloudWatch Logs.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LogDestinationStatus {
    /// Conditions, observed generation, ARN (what subscription filters name as their
    /// destination), region and AWS name, shared by every kind.
    #[serde(flatten)]
    pub common: CommonStatus,

    /// When CloudWatch Logs created the destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<Time>,
}
