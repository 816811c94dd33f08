//! The `MetricStream` custom resource: spec and status.
//!
//! The spec mirrors PutMetricStream (aws-sdk-cloudwatch 1.140) plus `desiredState`: AWS creates
//! streams running and PutMetricStream never changes that, so the operator drives
//! Start/StopMetricStreams from this field.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common_fields::{CommonSpec, CommonStatus, Tags};
use crate::statistics::{EXTENDED_STATISTIC_PATTERN, PERCENTILE_PATTERN};

/// A metric stream filter's namespace: printable ASCII with at least one character that is not a
/// space (CloudWatch API reference, `MetricStreamFilter`), not starting with a colon.
const FILTER_NAMESPACE_PATTERN: &str = "^([!-9;-~]| +[!-~])[ -~]*$";

/// The metric stream as it should be in CloudWatch: what it streams, where to, in which format,
/// and whether it runs.
#[derive(CustomResource, Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[kube(
    group = "cwo.dev",
    version = "v1alpha1",
    kind = "MetricStream",
    namespaced,
    status = "MetricStreamStatus",
    derive = "PartialEq",
    shortname = "cwms",
    category = "cloudwatch",
    doc = "MetricStream is an AWS CloudWatch metric stream managed by cloudwatch-operator: it sends CloudWatch metrics continuously to an Amazon Data Firehose delivery stream, for example to feed a third-party monitoring system. desiredState starts or stops the stream; status reports what CloudWatch runs and the state of the Firehose destination.",
    printcolumn(name = "State", type_ = "string", json_path = ".status.state", description = "State of the stream in CloudWatch: running or stopped"),
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#, description = "The stream exists in AWS and matches the spec"),
    printcolumn(name = "Synced", type_ = "string", json_path = r#".status.conditions[?(@.type=="Synced")].status"#, description = "The last reconcile with AWS succeeded"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(name = "Desired", type_ = "string", json_path = ".spec.desiredState", priority = 1, description = "Running or Stopped, as asked in the spec"),
    printcolumn(name = "Format", type_ = "string", json_path = ".spec.outputFormat", priority = 1, description = "Output format of the stream"),
    printcolumn(name = "AWS Name", type_ = "string", json_path = ".status.awsName", priority = 1, description = "Name of the stream in CloudWatch"),
    printcolumn(name = "Region", type_ = "string", json_path = ".status.region", priority = 1, description = "AWS region of the stream"),
    validation = Rule::new(
        "(has(self.spec.streamName) ? self.spec.streamName : self.metadata.name) == (has(oldSelf.spec.streamName) ? oldSelf.spec.streamName : oldSelf.metadata.name)"
    ).message(
        "streamName cannot change: the name is the metric stream's identity in CloudWatch. To rename, create a new MetricStream with the new name and delete this one"
    ).field_path(".spec.streamName"),
    validation = Rule::new(
        "has(self.spec.streamName) || self.metadata.name.matches('^[A-Za-z0-9_-]+$')"
    ).message(
        "metadata.name contains a dot, which metric stream names cannot: set spec.streamName to a name of letters, digits, - and _"
    ).field_path(".spec.streamName"),
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("!(has(self.includeFilters) && has(self.excludeFilters))").message(
        "includeFilters and excludeFilters are mutually exclusive: list the namespaces to stream, or the namespaces to leave out"
    ),
    validation = Rule::new(
        "!has(self.includeFilters) || size(self.includeFilters) + self.includeFilters.map(f, has(f.metricNames) ? size(f.metricNames) : 0).sum() <= 1000"
    ).message(
        "includeFilters name at most 1000 entries, counting each filter's namespace and each of its metric names: filter by namespace alone, or split the stream"
    ).field_path(".includeFilters"),
    validation = Rule::new(
        "!has(self.excludeFilters) || size(self.excludeFilters) + self.excludeFilters.map(f, has(f.metricNames) ? size(f.metricNames) : 0).sum() <= 1000"
    ).message(
        "excludeFilters name at most 1000 entries, counting each filter's namespace and each of its metric names: filter by namespace alone, or split the stream"
    ).field_path(".excludeFilters"),
    validation = Rule::new(
        "size(self.firehoseArn.split(':')) < 5 || size(self.roleArn.split(':')) < 5 || self.firehoseArn.split(':')[4] == self.roleArn.split(':')[4]"
    ).message(
        "firehoseArn and roleArn must be in the same AWS account: CloudWatch wants the delivery stream and the role both in the metric stream's own account"
    ).field_path(".roleArn"),
    validation = Rule::new(format!(
        "self.outputFormat == 'json' || !has(self.statisticsConfigurations) || self.statisticsConfigurations.all(c, c.additionalStatistics.all(s, s.matches('{PERCENTILE_PATTERN}')))"
    )).message(
        "with an OpenTelemetry outputFormat, additionalStatistics may only hold percentiles such as p90 or p99.9; use outputFormat json for other statistics"
    ).field_path(".statisticsConfigurations"),
)]
pub struct MetricStreamSpec {
    /// Region, deletion policy, adoption and management policy, shared by every kind.
    #[serde(flatten)]
    pub common: CommonSpec,

    /// Name of the stream in CloudWatch, unique per account and region: 1 to 255 letters,
    /// digits, - and _. Defaults to metadata.name (which must then contain no dot). The name is
    /// the stream's identity: it cannot be changed, added or removed later unless the resulting
    /// name stays the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255), regex(pattern = r"^[A-Za-z0-9_-]+$"))]
    pub stream_name: Option<String>,

    /// ARN of the Amazon Data Firehose delivery stream that receives the metrics, in the same
    /// account, for example arn:aws:firehose:us-east-1:123456789012:deliverystream/metrics. It
    /// must exist before the stream is created.
    #[schemars(length(min = 1, max = 1024))]
    #[x_kube(validation = Rule::new(
        "self.matches('^arn:aws[a-z-]*:firehose:[a-z0-9-]+:[0-9]{12}:deliverystream/.+$')"
    ).message(
        "firehoseArn must be a Firehose delivery stream ARN, for example arn:aws:firehose:us-east-1:123456789012:deliverystream/metrics"
    ))]
    pub firehose_arn: String,

    /// ARN of the IAM role CloudWatch assumes to write to the delivery stream, in the same
    /// account: it must trust streams.metrics.cloudwatch.amazonaws.com and allow
    /// firehose:PutRecord and firehose:PutRecordBatch. Example:
    /// arn:aws:iam::123456789012:role/metric-stream.
    #[schemars(length(min = 1, max = 1024))]
    #[x_kube(validation = Rule::new("self.matches('^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$')").message(
        "roleArn must be an IAM role ARN, for example arn:aws:iam::123456789012:role/metric-stream"
    ))]
    pub role_arn: String,

    /// Stream only these namespaces, optionally only some of their metrics. Mutually exclusive
    /// with excludeFilters. Each namespace at most once. At most 1000 entries, counting each
    /// filter's namespace and each of its metric names (for example 10 namespaces with 99
    /// metric names each). Default (neither set): every metric of the account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 1000))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["namespace".into()]))]
    pub include_filters: Vec<MetricStreamFilter>,

    /// Stream every namespace except these (or, for a filter with metricNames, except those
    /// metrics). Mutually exclusive with includeFilters. Each namespace at most once. At most
    /// 1000 entries, counting namespaces and metric names as for includeFilters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 1000))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["namespace".into()]))]
    pub exclude_filters: Vec<MetricStreamFilter>,

    /// Format of the records sent to Firehose: json, opentelemetry0.7 or opentelemetry1.0.
    pub output_format: MetricStreamOutputFormat,

    /// Extra statistics to stream for some metrics, beyond the Minimum, Maximum, Sum and
    /// SampleCount sent for every metric: at most 100 entries. With an OpenTelemetry format only
    /// percentiles (pNN) are allowed. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    pub statistics_configurations: Vec<MetricStreamStatisticsConfiguration>,

    /// In a CloudWatch cross-account observability monitoring account, also stream the metrics
    /// of the linked source accounts. Default: false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_linked_accounts_metrics: Option<bool>,

    /// Running (default) streams metrics; Stopped keeps the stream and its configuration but
    /// sends nothing. The operator starts or stops the stream to match.
    #[serde(default)]
    pub desired_state: MetricStreamDesiredState,

    /// Tags on the stream: at most 48 (AWS allows 50 per stream, and the operator's two
    /// ownership tags take two of them); keys of 1 to 128 characters, values of at most 256. Keys
    /// starting with aws: in any letter case (reserved by AWS) or cwo.dev/ (the operator's
    /// ownership tags) are refused. Default: none.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

/// A namespace, and optionally some of its metrics, to stream or leave out.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MetricStreamFilter {
    /// Metric namespace, for example AWS/EC2: 1 to 255 printable ASCII characters, not all
    /// spaces, not starting with a colon.
    #[schemars(length(min = 1, max = 255), pattern(FILTER_NAMESPACE_PATTERN))]
    pub namespace: String,

    /// Only these metrics of the namespace (1 to 255 characters each, each name at most once).
    /// Default: every metric of the namespace. The namespace and the names of all filters count
    /// together toward the limit of 1000.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 1000), inner(length(min = 1, max = 255)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub metric_names: Vec<String>,
}

/// Extra statistics for a set of metrics.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MetricStreamStatisticsConfiguration {
    /// Metrics (namespace and name, any dimensions) that get the extra statistics: 1 to 100,
    /// each namespace and name pair at most once.
    #[schemars(length(min = 1, max = 100))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["namespace".into(), "metricName".into()]))]
    pub include_metrics: Vec<MetricStreamStatisticsMetric>,

    /// Statistics to add, 1 to 20, each at most once: percentiles such as p90 or p99.9 for any
    /// format; with json also the other extended statistics, in the forms an alarm's
    /// extendedStatistic takes, such as tm98, wm90, TM(10%:90%), IQM or PR(:300).
    #[schemars(
        length(min = 1, max = 20),
        inner(length(min = 1, max = 50), pattern(EXTENDED_STATISTIC_PATTERN))
    )]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub additional_statistics: Vec<String>,
}

/// A metric, by namespace and name, across all its dimensions.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct MetricStreamStatisticsMetric {
    /// Metric namespace, for example AWS/ApplicationELB (1 to 255 characters, not starting with
    /// a colon).
    #[schemars(length(min = 1, max = 255), regex(pattern = r"^[^:].*$"))]
    pub namespace: String,

    /// Metric name, for example TargetResponseTime (1 to 255 characters).
    #[schemars(length(min = 1, max = 255))]
    pub metric_name: String,
}

/// Format of metric stream records.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
pub enum MetricStreamOutputFormat {
    #[default]
    #[serde(rename = "json")]
    Json,
    #[serde(rename = "opentelemetry0.7")]
    OpenTelemetry07,
    #[serde(rename = "opentelemetry1.0")]
    OpenTelemetry10,
}

/// Whether the stream should be sending metrics.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
pub enum MetricStreamDesiredState {
    #[default]
    Running,
    Stopped,
}

/// State of the stream as CloudWatch reports it: running or stopped.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum StreamState {
    /// The stream sends metrics.
    Running,
    /// The stream is stopped.
    Stopped,
}

/// What the operator last saw of the stream in CloudWatch and Firehose.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MetricStreamStatus {
    /// Conditions, observed generation, ARN, region and AWS name, shared by every kind.
    #[serde(flatten)]
    pub common: CommonStatus,

    /// State of the stream as CloudWatch reports it: running or stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<StreamState>,

    /// When CloudWatch created the stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<Time>,

    /// When the stream's configuration or state last changed in CloudWatch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_date: Option<Time>,

    /// Status of the Firehose delivery stream as DescribeDeliveryStream reports it, for example
    /// ACTIVE, CREATING or DELETING; NotFound when it does not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firehose_delivery_stream_status: Option<String>,
}
