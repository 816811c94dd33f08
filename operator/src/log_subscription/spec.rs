//! The `LogSubscription` custom resource: spec and status.
//!
//! The spec mirrors PutSubscriptionFilter (aws-sdk-cloudwatchlogs 1.162). AWS identifies a filter
//! by log group and filter name. The filter name is fixed for the life of the object; the log
//! group may change, which the operator carries out as delete-then-create because a log group
//! holds only a few filters.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common_fields::{CommonSpec, CommonStatus};
pub use crate::log_filter::{FilterOwnership, OwnershipOrigin};

/// The subscription filter as it should be in CloudWatch Logs: which log group, which events,
/// and where they go.
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[kube(
    group = "cwo.dev",
    version = "v1alpha1",
    kind = "LogSubscription",
    namespaced,
    status = "LogSubscriptionStatus",
    derive = "PartialEq",
    shortname = "cwls",
    category = "cloudwatch",
    doc = "LogSubscription is an AWS CloudWatch Logs subscription filter managed by cloudwatch-operator: it forwards the log events of one log group that match a filter pattern to a Kinesis data stream, an Amazon Data Firehose delivery stream, a Lambda function or a Logs destination (by ARN, or a LogDestination through spec.destinationRef). Subscription filters carry no tags, so the operator records in status whether this object created the filter or adopted it.",
    printcolumn(name = "Log Group", type_ = "string", json_path = ".spec.logGroupName", description = "Log group the filter subscribes to"),
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#, description = "The filter exists in AWS and matches the spec"),
    printcolumn(name = "Synced", type_ = "string", json_path = r#".status.conditions[?(@.type=="Synced")].status"#, description = "The last reconcile with AWS succeeded"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(name = "Filter", type_ = "string", json_path = ".status.awsName", priority = 1, description = "Name of the subscription filter in CloudWatch Logs"),
    printcolumn(name = "Destination", type_ = "string", json_path = ".spec.destinationArn", priority = 1, description = "Where matching log events go"),
    printcolumn(name = "Destination Ref", type_ = "string", json_path = ".spec.destinationRef.name", priority = 1, description = "The LogDestination matching log events go to"),
    printcolumn(name = "Region", type_ = "string", json_path = ".status.region", priority = 1, description = "AWS region of the log group"),
    validation = Rule::new(
        "(has(self.spec.filterName) ? self.spec.filterName : self.metadata.name) == (has(oldSelf.spec.filterName) ? oldSelf.spec.filterName : oldSelf.metadata.name)"
    ).message(
        "filterName cannot change: together with the log group it identifies the subscription filter. To rename, create a new LogSubscription with the new name and delete this one"
    ).field_path(".spec.filterName"),
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("has(self.destinationArn) != has(self.destinationRef)").message(
        "set exactly one of destinationArn (a Kinesis data stream, Firehose delivery stream, Lambda function or Logs destination) or destinationRef (a LogDestination in this namespace)"
    ),
    validation = Rule::new(
        "has(self.roleArn) || !has(self.destinationArn) || !self.destinationArn.matches('^arn:aws[a-z-]*:(kinesis|firehose):')"
    ).message(
        "a Kinesis or Firehose destination needs roleArn, an IAM role CloudWatch Logs assumes to write to it"
    ).field_path(".roleArn"),
    validation = Rule::new(
        "!has(self.distribution) || self.distribution == 'ByLogStream' || (has(self.destinationArn) && self.destinationArn.matches('^arn:aws[a-z-]*:kinesis:'))"
    ).message(
        "distribution Random applies only to Kinesis data stream destinations: remove it or use ByLogStream"
    ).field_path(".distribution"),
)]
pub struct LogSubscriptionSpec {
    /// Region, deletion policy, adoption and management policy, shared by every kind.
    #[serde(flatten)]
    pub common: CommonSpec,

    /// Name of the log group to subscribe to, for example /aws/lambda/checkout (1 to 512
    /// letters, digits and . - _ / #). It must exist. Changing it moves the subscription: the
    /// operator deletes the filter from the old log group, then creates it on the new one.
    #[schemars(length(min = 1, max = 512), regex(pattern = r"^[.\-_/#A-Za-z0-9]+$"))]
    pub log_group_name: String,

    /// Name of the subscription filter, unique within its log group: 1 to 512 characters, no
    /// colon or asterisk. Defaults to metadata.name. It cannot be changed, added or removed
    /// later unless the resulting name stays the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512), regex(pattern = r"^[^:*]+$"))]
    pub filter_name: Option<String>,

    /// CloudWatch Logs filter pattern selecting the log events to forward, at most 1024
    /// characters, for example { $.level = "ERROR" } or "timeout". Default: empty, which
    /// forwards every event.
    #[serde(default)]
    #[schemars(length(max = 1024))]
    pub filter_pattern: String,

    /// Where matching events go: the ARN of a Kinesis data stream, an Amazon Data Firehose
    /// delivery stream or a Lambda function in the same account, or of a CloudWatch Logs
    /// destination (for cross-account delivery). Kinesis and Firehose need roleArn; a Lambda
    /// function needs a resource policy allowing logs.amazonaws.com to invoke it. Set this or
    /// destinationRef.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2048))]
    #[x_kube(validation = Rule::new(
        "self.matches('^arn:aws[a-z-]*:(kinesis:[a-z0-9-]+:[0-9]{12}:stream/.+|firehose:[a-z0-9-]+:[0-9]{12}:deliverystream/.+|lambda:[a-z0-9-]+:[0-9]{12}:function:.+|logs:[a-z0-9-]+:[0-9]{12}:destination:.+)$')"
    ).message(
        "destinationArn must be the ARN of a Kinesis data stream (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME), a Firehose delivery stream (arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME), a Lambda function (arn:aws:lambda:REGION:ACCOUNT:function:NAME) or a Logs destination (arn:aws:logs:REGION:ACCOUNT:destination:NAME)"
    ))]
    pub destination_arn: Option<String>,

    /// A LogDestination in this namespace to send matching events to, instead of
    /// destinationArn: the subscription waits (DependencyNotReady) until the destination is
    /// Ready, then uses its ARN; the destination is not deleted while this subscription names
    /// it. Set this or destinationArn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_ref: Option<LogDestinationRef>,

    /// ARN of the IAM role CloudWatch Logs assumes to write to a Kinesis or Firehose
    /// destination, for example arn:aws:iam::123456789012:role/logs-to-kinesis. Required for
    /// those; not needed for Lambda or a Logs destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2048))]
    #[x_kube(validation = Rule::new("self.matches('^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$')").message(
        "roleArn must be an IAM role ARN, for example arn:aws:iam::123456789012:role/logs-to-kinesis"
    ))]
    pub role_arn: Option<String>,

    /// How events are spread over the shards of a Kinesis data stream: ByLogStream (AWS's
    /// default when unset) keeps each log stream on one shard; Random spreads evenly. Only for
    /// Kinesis destinations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Distribution>,

    /// For a log group with a log transformer: true applies the filter to the transformed
    /// events instead of the events as ingested. Default: false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_on_transformed_logs: Option<bool>,

    /// Selects events by system fields such as source account and region, at most 2000
    /// characters, for example @aws.region NOT IN ["cn-north-1"]. Default: no selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2000))]
    pub field_selection_criteria: Option<String>,

    /// System fields to add to each forwarded event: @aws.account, @aws.region and/or
    /// @source.log. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 3))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub emit_system_fields: Vec<SystemField>,
}

/// A LogDestination a subscription sends to.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LogDestinationRef {
    /// Name of the LogDestination object, in the subscription's namespace.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// How a subscription spreads events over Kinesis shards.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
pub enum Distribution {
    Random,
    // AWS's default.
    #[default]
    ByLogStream,
}

/// A system field a subscription can add to forwarded events.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
pub enum SystemField {
    #[serde(rename = "@aws.account")]
    AwsAccount,
    #[serde(rename = "@aws.region")]
    AwsRegion,
    #[serde(rename = "@source.log")]
    SourceLog,
}

/// What the operator last saw of the subscription filter in CloudWatch Logs.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LogSubscriptionStatus {
    /// Conditions, observed generation, region and AWS name (the filter name), shared by every
    /// kind. Subscription filters have no ARN.
    #[serde(flatten)]
    pub common: CommonStatus,

    /// The filter this object owns in AWS. Filters carry no tags, so this record is how the
    /// operator tells its own filter from someone else's, and which filter to delete when the
    /// log group changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership: Option<FilterOwnership>,

    /// When CloudWatch Logs created the filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<Time>,

    /// When CloudWatch Logs first refused to write the filter for the current generation because
    /// the test message it sends on every write could not be delivered (the destination is not
    /// active yet, the role cannot be assumed yet, or a concurrent change). These are usually IAM
    /// or propagation delays, so the operator retries with backoff for 5 minutes from this time
    /// before reporting the failure as terminal. Cleared once the filter is written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_message_failing_since: Option<Time>,
}

crate::filter_status!(LogSubscriptionStatus, test_message_failing_since: Option<Time>);
