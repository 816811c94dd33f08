//! The `MetricFilter` custom resource: spec and status.
//!
//! The spec mirrors PutMetricFilter (aws-sdk-cloudwatchlogs 1.162). AWS identifies a metric
//! filter by log group and filter name. The filter name is fixed for the life of the object; the
//! log group may change, which the operator carries out as delete-then-create. On top of the API,
//! `tests` holds sample log events with the value each must publish, checked with
//! TestMetricFilter before the filter is written.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common_fields::{CommonSpec, CommonStatus};
pub use crate::log_filter::{FilterOwnership, OwnershipOrigin};
pub use crate::units::StandardUnit;

/// Most sample events `tests` may hold: TestMetricFilter takes at most 50 messages per call.
pub const MAX_TESTS: usize = 50;

/// Dimensions one metric filter may publish, system field dimensions included.
pub const MAX_DIMENSIONS: usize = 3;

/// The metric filter as it should be in CloudWatch Logs: which log group, which events, and the
/// metric they publish.
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[kube(
    group = "cwo.dev",
    version = "v1alpha1",
    kind = "MetricFilter",
    namespaced,
    status = "MetricFilterStatus",
    derive = "PartialEq",
    shortname = "cwmf",
    category = "cloudwatch",
    doc = "MetricFilter is an AWS CloudWatch Logs metric filter managed by cloudwatch-operator: it turns the log events of one log group that match a filter pattern into data points of a CloudWatch metric, which an Alarm can watch (spec.metricFilterRef). Sample log events in spec.tests are checked with AWS's TestMetricFilter before the filter is written, and the results are reported in status. Metric filters carry no tags, so the operator records in status whether this object created the filter or adopted it.",
    printcolumn(name = "Log Group", type_ = "string", json_path = ".spec.logGroupName", description = "Log group the filter reads"),
    printcolumn(name = "Metric", type_ = "string", json_path = ".spec.metricTransformations[0].metricName", description = "Metric the filter publishes"),
    printcolumn(name = "Tests", type_ = "string", json_path = ".status.tests.summary", description = "How many of spec.tests pass"),
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#, description = "The filter exists in AWS and matches the spec"),
    printcolumn(name = "Synced", type_ = "string", json_path = r#".status.conditions[?(@.type=="Synced")].status"#, description = "The last reconcile with AWS succeeded"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(name = "Namespace", type_ = "string", json_path = ".spec.metricTransformations[0].metricNamespace", priority = 1, description = "CloudWatch namespace of the metric"),
    printcolumn(name = "Filter", type_ = "string", json_path = ".status.awsName", priority = 1, description = "Name of the metric filter in CloudWatch Logs"),
    printcolumn(name = "Region", type_ = "string", json_path = ".status.region", priority = 1, description = "AWS region of the log group"),
    validation = Rule::new(
        "(has(self.spec.filterName) ? self.spec.filterName : self.metadata.name) == (has(oldSelf.spec.filterName) ? oldSelf.spec.filterName : oldSelf.metadata.name)"
    ).message(
        "filterName cannot change: together with the log group it identifies the metric filter. To rename, create a new MetricFilter with the new name and delete this one"
    ).field_path(".spec.filterName"),
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new(
        "self.metricTransformations.all(t, (has(t.dimensions) ? size(t.dimensions) : 0) + (has(self.emitSystemFieldDimensions) ? size(self.emitSystemFieldDimensions) : 0) <= 3)"
    ).message(
        "a metric filter publishes at most 3 dimensions, emitSystemFieldDimensions included: remove dimensions or system field dimensions"
    ).field_path(".metricTransformations"),
)]
pub struct MetricFilterSpec {
    /// Region, deletion policy, adoption and management policy, shared by every kind.
    #[serde(flatten)]
    pub common: CommonSpec,

    /// Name of the log group whose events the filter reads, for example /aws/lambda/checkout (1
    /// to 512 letters, digits and . - _ / #). It must exist, in the Standard log class. Changing
    /// it moves the filter: the operator deletes it from the old log group, then creates it on
    /// the new one.
    #[schemars(length(min = 1, max = 512), regex(pattern = r"^[.\-_/#A-Za-z0-9]+$"))]
    pub log_group_name: String,

    /// Name of the metric filter, unique within its log group: 1 to 512 characters, no colon or
    /// asterisk. Defaults to metadata.name. It cannot be changed, added or removed later unless
    /// the resulting name stays the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512), regex(pattern = r"^[^:*]+$"))]
    pub filter_name: Option<String>,

    /// CloudWatch Logs filter pattern selecting the log events that publish a data point, at
    /// most 1024 characters: terms (ERROR, "connection refused", ?ERROR ?FATAL), a JSON pattern
    /// ({ $.level = "ERROR" }) or a space-delimited pattern ([ip, user, ..., status_code = 5*,
    /// bytes]). Default: empty, which matches every event.
    #[serde(default)]
    #[schemars(length(max = 1024))]
    pub filter_pattern: String,

    /// The metric the matching events publish. CloudWatch Logs takes exactly one.
    #[schemars(length(min = 1, max = 1))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["metricName".into()]))]
    pub metric_transformations: Vec<MetricTransformation>,

    /// For a log group with a log transformer: true applies the filter to the transformed
    /// events instead of the events as ingested. Default: false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_on_transformed_logs: Option<bool>,

    /// Selects the events the filter reads by system fields such as source account and region,
    /// at most 2000 characters, for example @aws.region = "us-east-1". For log groups that
    /// receive centralized logs. Default: every event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2000))]
    pub field_selection_criteria: Option<String>,

    /// System fields to publish as extra dimensions of the metric: @aws.account and/or
    /// @aws.region, which tell the source of centralized log data apart. They count toward the
    /// limit of 3 dimensions. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 2))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub emit_system_field_dimensions: Vec<SystemFieldDimension>,

    /// Sample log events, each with the metric value it must publish (value) or noMatch: true
    /// when the pattern must not match it: at most 50, each event at most once. The operator
    /// runs them through AWS's TestMetricFilter whenever the spec changes, before writing the
    /// filter, and reports the results in status.tests; a failing test stops the filter from
    /// being written and makes this object not Ready (InvalidSpec), so no alarm watches a metric
    /// from a wrong pattern. Default: no tests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["logEvent".into()]))]
    pub tests: Vec<FilterTest>,
}

/// How matching log events become data points of a CloudWatch metric.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MetricTransformation {
    /// Name of the CloudWatch metric, for example CheckoutErrors: 1 to 255 characters, without
    /// : * or $. An Alarm watching this filter (spec.metricFilterRef) names it in
    /// metricFilterRef.metricName.
    #[schemars(length(min = 1, max = 255), regex(pattern = r"^[^:*$]+$"))]
    pub metric_name: String,

    /// CloudWatch namespace of the metric, for example Checkout: 1 to 255 characters, without
    /// : * or $.
    #[schemars(length(min = 1, max = 255), regex(pattern = r"^[^:*$]+$"))]
    pub metric_namespace: String,

    /// What each matching event publishes: a number (1 counts events), or a field of the event
    /// such as $.latency (JSON patterns) or $bytes (space-delimited patterns). 1 to 100
    /// characters.
    #[schemars(length(min = 1, max = 100))]
    pub metric_value: String,

    /// The value published for a period in which events arrived but none matched, for example
    /// 0 so that the metric reads zero instead of missing. Default: nothing is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<f64>,

    /// Dimensions of the metric, from dimension name to a field of the event ($.requestType or
    /// $method): at most 3, system field dimensions included. Each distinct value is a custom
    /// metric of its own and is billed as one, so avoid high-cardinality fields such as request
    /// ids. Names and fields of 1 to 255 characters. Default: none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = 3))]
    #[x_kube(validation = Rule::new(
        "self.all(k, size(k) >= 1 && size(k) <= 255 && size(self[k]) >= 1 && size(self[k]) <= 255)"
    ).message("dimension names and the fields they are read from are 1 to 255 characters long"))]
    pub dimensions: BTreeMap<String, String>,

    /// Unit of the metric, for example Milliseconds. Set it right from the start: CloudWatch
    /// keeps the first unit a metric is published with. Default: None.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<StandardUnit>,
}

/// A system field a metric filter can publish as a dimension.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
pub enum SystemFieldDimension {
    #[serde(rename = "@aws.account")]
    AwsAccount,
    #[serde(rename = "@aws.region")]
    AwsRegion,
}

/// A sample log event and what the filter must make of it.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.value) != (has(self.noMatch) && self.noMatch)").message(
    "each test needs exactly one of value (the metric value the event must publish) or noMatch: true (the pattern must not match the event)"
))]
pub struct FilterTest {
    /// The log event message, as the application writes it, for example
    /// {"level":"ERROR","msg":"card declined"}: 1 to 4096 characters.
    #[schemars(length(min = 1, max = 4096))]
    pub log_event: String,

    /// The metric value the event must publish: the filter pattern matches it, and the metric
    /// value (a number, or the field it names) reads this number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,

    /// true: the filter pattern must not match the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_match: Option<bool>,
}

/// What the operator last saw of the metric filter in CloudWatch Logs.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MetricFilterStatus {
    /// Conditions, observed generation, region and AWS name (the filter name), shared by every
    /// kind. Metric filters have no ARN.
    #[serde(flatten)]
    pub common: CommonStatus,

    /// The filter this object owns in AWS. Metric filters carry no tags, so this record is how
    /// the operator tells its own filter from someone else's, and which filter to delete when
    /// the log group changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership: Option<FilterOwnership>,

    /// When CloudWatch Logs created the filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_time: Option<Time>,

    /// The results of spec.tests, from TestMetricFilter. Absent when the spec has no tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<TestResults>,
}

crate::filter_status!(MetricFilterStatus, tests: Option<TestResults>);

/// The results of spec.tests.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TestResults {
    /// The metadata.generation whose filter pattern, metric and tests these results are for.
    /// The tests run again only when the spec changes.
    pub observed_generation: i64,

    /// How many tests passed, for example "2/3 passed".
    pub summary: String,

    /// One result per entry of spec.tests, in the same order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<TestResult>,
}

/// The result of one entry of spec.tests.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    /// Position of the test in spec.tests, from 0.
    pub index: u32,

    /// What the test expects: the metric value, or "no match".
    pub expected: String,

    /// What the filter made of the event according to TestMetricFilter: the metric value it
    /// publishes, "no match", or why no value could be read.
    pub actual: String,

    /// Whether actual is what the test expects.
    pub passed: bool,
}
