//! The `Alarm` custom resource: spec and status.
//!
//! The spec mirrors PutMetricAlarm field by field (aws-sdk-cloudwatch 1.140), so a reader of the
//! AWS API reference finds every parameter under the same name, camelCased. What the API server can
//! check is checked at admission: types, enums, ranges, lengths, and CEL rules for the exclusive
//! groups and cross-field limits that PutMetricAlarm would otherwise reject minutes later.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cloudwatch_alarm::actions::{
    METRIC_ALARM_ACTIONS_MESSAGE, METRIC_ALARM_ACTIONS_RULE, METRIC_STATE_ACTIONS_MESSAGE,
    METRIC_STATE_ACTIONS_RULE, NO_AUTOSCALING_ON_BAND_MESSAGE, NO_AUTOSCALING_ON_BAND_RULE,
};
use crate::cloudwatch_alarm::spec::empty_spec;
pub use crate::cloudwatch_alarm::spec::{
    ActionConfiguration, AlarmState, AlarmTagsPropagation, default_true,
};
use crate::common_fields::{CommonSpec, CommonStatus, Tags};
use crate::statistics::{EXTENDED_STATISTIC_PATTERN, STATISTIC_PATTERN};
pub use crate::units::StandardUnit;

/// CEL: a CloudWatch alarm period is 10, 20 or 30 seconds (high resolution) or a multiple of 60.
pub(crate) const PERIOD_RULE: &str = "self in [10, 20, 30] || self % 60 == 0";
pub(crate) const PERIOD_MESSAGE: &str = "must be 10, 20 or 30 seconds (high-resolution metrics) or a multiple of 60 seconds, for example 60, 300 or 3600";

/// A dimension name: printable ASCII with at least one character that is not a space, not
/// starting with a colon (CloudWatch API reference, `Dimension`).
const DIMENSION_NAME_PATTERN: &str = "^([!-9;-~]| +[!-~])[ -~]*$";
/// A dimension value: printable ASCII with at least one character that is not a space.
const DIMENSION_VALUE_PATTERN: &str = "^ *[!-~][ -~]*$";

/// The alarm as it should be in CloudWatch. Choose what it watches with exactly one of metricName
/// (one metric), metricFilterRef (the metric of a MetricFilter), metrics (metric math or an
/// anomaly detection band) or evaluationCriteria (a PromQL query), then how it compares:
/// comparisonOperator with threshold or thresholdMetricId, over evaluationPeriods.
#[derive(CustomResource, Clone, Debug, Deserialize, Serialize, KubeSchema, PartialEq)]
#[kube(
    group = "cwo.dev",
    version = "v1alpha1",
    kind = "Alarm",
    namespaced,
    status = "AlarmStatus",
    derive = "PartialEq",
    shortname = "cwa",
    category = "cloudwatch",
    doc = "Alarm is an AWS CloudWatch metric alarm managed by cloudwatch-operator. It watches one metric (metricName, or the metric a MetricFilter publishes from log events: metricFilterRef), a metric math expression or anomaly detection band (metrics), or a PromQL query (evaluationCriteria), and runs actions when its state changes. The operator creates the alarm with PutMetricAlarm, keeps it matching this spec, and reports the alarm's live state in status.",
    printcolumn(name = "State", type_ = "string", json_path = ".status.stateValue", description = "Live alarm state in CloudWatch: OK, ALARM or INSUFFICIENT_DATA"),
    printcolumn(name = "Ready", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].status"#, description = "The alarm exists in AWS and matches the spec"),
    printcolumn(name = "Synced", type_ = "string", json_path = r#".status.conditions[?(@.type=="Synced")].status"#, description = "The last reconcile with AWS succeeded"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    printcolumn(name = "AWS Name", type_ = "string", json_path = ".status.awsName", priority = 1, description = "Name of the alarm in CloudWatch"),
    printcolumn(name = "Region", type_ = "string", json_path = ".status.region", priority = 1, description = "AWS region of the alarm"),
    printcolumn(name = "Reason", type_ = "string", json_path = r#".status.conditions[?(@.type=="Ready")].reason"#, priority = 1, description = "Why the alarm is or is not ready"),
    validation = Rule::new(
        "(has(self.spec.alarmName) ? self.spec.alarmName : self.metadata.name) == (has(oldSelf.spec.alarmName) ? oldSelf.spec.alarmName : oldSelf.metadata.name)"
    ).message(
        "alarmName cannot change: the name is the alarm's identity in CloudWatch. To rename, create a new Alarm with the new name and delete this one"
    ).field_path(".spec.alarmName"),
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new(
        "(has(self.metricName) ? 1 : 0) + (has(self.metricFilterRef) ? 1 : 0) + (has(self.metrics) ? 1 : 0) + (has(self.evaluationCriteria) ? 1 : 0) == 1"
    ).message(
        "set exactly one of metricName (one metric), metrics (metric math or an anomaly detection band), evaluationCriteria (a PromQL query) or metricFilterRef (the metric of a MetricFilter)"
    ),
    validation = Rule::new(
        "has(self.metricName) || has(self.metricFilterRef) || !(has(self.namespace) || has(self.dimensions) || has(self.statistic) || has(self.extendedStatistic) || has(self.period) || has(self.unit))"
    ).message(
        "namespace, dimensions, statistic, extendedStatistic, period and unit describe the single metric named by metricName: set metricName, or for metric math move them into metrics[].metricStat"
    ),
    validation = Rule::new(
        "!has(self.metricName) || (has(self.namespace) && has(self.period))"
    ).message("an alarm on one metric (metricName) needs namespace and period"),
    validation = Rule::new(
        "!has(self.metricFilterRef) || (!has(self.namespace) && has(self.period))"
    ).message(
        "an alarm on a MetricFilter's metric (metricFilterRef) needs period, and takes its namespace from the filter: remove namespace"
    ),
    validation = Rule::new(
        "!(has(self.statistic) && has(self.extendedStatistic))"
    ).message(
        "statistic and extendedStatistic are mutually exclusive: use statistic for SampleCount, Average, Sum, Minimum or Maximum, and extendedStatistic for percentiles and other statistics such as p99"
    ),
    validation = Rule::new(
        "!(has(self.metricName) || has(self.metricFilterRef)) || has(self.statistic) || has(self.extendedStatistic)"
    ).message("an alarm on one metric (metricName or metricFilterRef) needs statistic or extendedStatistic"),
    validation = Rule::new(
        "!(has(self.threshold) && has(self.thresholdMetricId))"
    ).message(
        "threshold and thresholdMetricId are mutually exclusive: use threshold for a static threshold, thresholdMetricId for an anomaly detection band"
    ),
    validation = Rule::new(
        "has(self.evaluationCriteria) || has(self.threshold) || has(self.thresholdMetricId)"
    ).message(
        "set threshold (a static threshold) or thresholdMetricId (the id of the ANOMALY_DETECTION_BAND entry in metrics)"
    ),
    validation = Rule::new(
        "!has(self.thresholdMetricId) || (has(self.metrics) && self.metrics.exists(m, m.id == self.thresholdMetricId && has(m.expression) && m.expression.contains('ANOMALY_DETECTION_BAND(')))"
    ).message(
        "thresholdMetricId must be the id of an entry in metrics, the one whose expression is ANOMALY_DETECTION_BAND(...)"
    ),
    validation = Rule::new(NO_AUTOSCALING_ON_BAND_RULE).message(NO_AUTOSCALING_ON_BAND_MESSAGE),
    validation = Rule::new(
        "!has(self.comparisonOperator) || has(self.thresholdMetricId) == (self.comparisonOperator in ['LessThanLowerOrGreaterThanUpperThreshold', 'LessThanLowerThreshold', 'GreaterThanUpperThreshold'])"
    ).message(
        "comparisonOperator LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold and GreaterThanUpperThreshold compare with an anomaly detection band and need thresholdMetricId; the other operators compare with threshold"
    ),
    validation = Rule::new(
        "has(self.evaluationCriteria) || (has(self.comparisonOperator) && has(self.evaluationPeriods))"
    ).message(
        "comparisonOperator and evaluationPeriods are required, except for PromQL alarms (evaluationCriteria)"
    ),
    validation = Rule::new(
        "!has(self.evaluationCriteria) || !(has(self.comparisonOperator) || has(self.threshold) || has(self.thresholdMetricId) || has(self.evaluationPeriods) || has(self.datapointsToAlarm) || has(self.treatMissingData) || has(self.evaluateLowSampleCountPercentile) || has(self.evaluationWindow))"
    ).message(
        "a PromQL alarm (evaluationCriteria) carries its own condition: remove comparisonOperator, threshold, thresholdMetricId, evaluationPeriods, datapointsToAlarm, treatMissingData, evaluateLowSampleCountPercentile and evaluationWindow"
    ),
    validation = Rule::new(
        "has(self.evaluationCriteria) == has(self.evaluationInterval)"
    ).message(
        "evaluationInterval is required with evaluationCriteria (PromQL) and not allowed otherwise: metric alarms are evaluated every period"
    ),
    validation = Rule::new(
        "!has(self.period) || !has(self.evaluationPeriods) || self.period * self.evaluationPeriods <= (self.period < 3600 ? 86400 : 604800)"
    ).message(
        "period × evaluationPeriods must not exceed 86400 seconds (one day) when period is under 3600 seconds, or 604800 seconds (seven days) otherwise: lower evaluationPeriods or raise period"
    ).field_path(".evaluationPeriods"),
    validation = Rule::new(
        "!has(self.metrics) || !has(self.evaluationPeriods) || self.metrics.all(m, (!has(m.period) || m.period * self.evaluationPeriods <= (m.period < 3600 ? 86400 : 604800)) && (!has(m.metricStat) || m.metricStat.period * self.evaluationPeriods <= (m.metricStat.period < 3600 ? 86400 : 604800)))"
    ).message(
        "period × evaluationPeriods must not exceed 86400 seconds (one day) when the period of an entry in metrics is under 3600 seconds, or 604800 seconds (seven days) otherwise: lower evaluationPeriods or raise the periods in metrics"
    ).field_path(".evaluationPeriods"),
    validation = Rule::new(
        "!has(self.datapointsToAlarm) || !has(self.evaluationPeriods) || self.datapointsToAlarm <= self.evaluationPeriods"
    ).message(
        "datapointsToAlarm (M in an M-out-of-N alarm) must not exceed evaluationPeriods (N)"
    ).field_path(".datapointsToAlarm"),
    validation = Rule::new(
        "!has(self.metrics) || has(self.thresholdMetricId) || self.metrics.filter(m, !has(m.returnData) || m.returnData).size() == 1"
    ).message(
        "exactly one entry of metrics must return data, the value the alarm watches: returnData defaults to true, so set returnData: false on every other entry"
    ).field_path(".metrics"),
    validation = Rule::new(
        "!has(self.metrics) || (self.metrics.filter(m, has(m.metricStat)).size() <= 10 && self.metrics.filter(m, has(m.expression)).size() <= 10)"
    ).message("metrics holds at most 10 entries with metricStat and at most 10 with expression").field_path(".metrics"),
    validation = Rule::new(
        "!has(self.evaluationWindow) || !has(self.evaluationWindow.wallClockWindow) || ((!has(self.period) || self.period in [60, 300, 3600, 86400, 604800]) && (!has(self.metrics) || self.metrics.all(m, (!has(m.period) || m.period in [60, 300, 3600, 86400, 604800]) && (!has(m.metricStat) || m.metricStat.period in [60, 300, 3600, 86400, 604800]))))"
    ).message(
        "a wallClockWindow needs a period of 60, 300, 3600, 86400 or 604800 seconds (one minute, five minutes, one hour, one day or one week)"
    ).field_path(".evaluationWindow"),
)]
pub struct AlarmSpec {
    /// Region, deletion policy, adoption and management policy, shared by every kind.
    #[serde(flatten)]
    pub common: CommonSpec,

    /// Name of the alarm in CloudWatch, unique per account and region: 1 to 255 characters, no
    /// control characters. Defaults to metadata.name. The name is the alarm's identity: it cannot
    /// be changed, added or removed later unless the resulting name stays the same. To rename,
    /// create a new Alarm and delete this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255), regex(pattern = r"^[^\x00-\x1f\x7f]+$"))]
    pub alarm_name: Option<String>,

    /// Description of the alarm, shown in the CloudWatch console and in notifications. At most
    /// 1024 characters. Default: no description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub description: Option<String>,

    /// Whether the alarm runs its actions when its state changes. Default: true. With false the
    /// alarm still changes state but notifies no one.
    #[serde(default = "default_true")]
    pub actions_enabled: bool,

    /// Actions to run when the alarm enters the OK state: at most 5 distinct ARNs of SNS topics,
    /// Lambda functions, Systems Manager OpsItems or Incident Manager response plans, EC2
    /// actions (arn:aws:automate:REGION:ec2:stop|terminate|reboot|recover) or Auto Scaling
    /// policies. An anomaly detection alarm (thresholdMetricId) cannot have Auto Scaling
    /// actions. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5), inner(length(min = 1, max = 1024)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    #[x_kube(validation = Rule::new(METRIC_STATE_ACTIONS_RULE).message(METRIC_STATE_ACTIONS_MESSAGE))]
    pub ok_actions: Vec<String>,

    /// Actions to run when the alarm enters the ALARM state: at most 5 distinct ARNs of SNS
    /// topics, Lambda functions, Systems Manager OpsItems or Incident Manager response plans, EC2
    /// actions, Auto Scaling policies or CloudWatch investigation groups (this list only). An
    /// anomaly detection alarm (thresholdMetricId) cannot have Auto Scaling actions. Default:
    /// none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5), inner(length(min = 1, max = 1024)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    #[x_kube(validation = Rule::new(METRIC_ALARM_ACTIONS_RULE).message(METRIC_ALARM_ACTIONS_MESSAGE))]
    pub alarm_actions: Vec<String>,

    /// Actions to run when the alarm enters the INSUFFICIENT_DATA state: at most 5 distinct ARNs,
    /// of the same kinds as okActions. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5), inner(length(min = 1, max = 1024)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    #[x_kube(validation = Rule::new(METRIC_STATE_ACTIONS_RULE).message(METRIC_STATE_ACTIONS_MESSAGE))]
    pub insufficient_data_actions: Vec<String>,

    /// Name of the one metric the alarm watches, for example CPUUtilization (1 to 255
    /// characters). Set exactly one of metricName, metricFilterRef, metrics or evaluationCriteria.
    /// With metricName, also set namespace, period and statistic or extendedStatistic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub metric_name: Option<String>,

    /// The metric a MetricFilter in this namespace publishes, instead of metricName and
    /// namespace: the alarm watches that metric, waits (DependencyNotReady) until the filter is
    /// Ready, and is deleted before the filter. Set exactly one of metricName, metricFilterRef,
    /// metrics or evaluationCriteria. With metricFilterRef, also set period and statistic or
    /// extendedStatistic, and dimensions when the filter publishes some.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_filter_ref: Option<MetricFilterRef>,

    /// Namespace of the metric named by metricName, for example AWS/EC2 (1 to 255 characters, not
    /// starting with a colon). Only with metricName.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255), regex(pattern = r"^[^:].*$"))]
    pub namespace: Option<String>,

    /// Dimensions of the metric named by metricName, for example InstanceId: at most 30, each
    /// name at most once. Order does not matter. Only with metricName. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 30))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub dimensions: Vec<Dimension>,

    /// Statistic of the metric named by metricName: SampleCount, Average, Sum, Minimum or Maximum.
    /// For percentiles and other statistics use extendedStatistic instead; set exactly one of the
    /// two with metricName.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistic: Option<Statistic>,

    /// Percentile or other extended statistic of the metric named by metricName: a percentile
    /// pNN.NN from p0 to p100 (p90, p99.9); the shorthands tmNN, tcNN, tsNN and wmNN (tm90);
    /// IQM; the ranges TM(a:b), TC(a:b), TS(a:b) and WM(a:b) with both bounds percentages
    /// (TM(10%:90%)) or both values (TM(150:1000)), one of them possibly left out (TM(:99%)); or
    /// the percentile rank PR(a:b) with values (PR(:300), PR(100:2000)). Percentages have at
    /// most ten decimals. Mutually exclusive with statistic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 100), pattern(EXTENDED_STATISTIC_PATTERN))]
    pub extended_statistic: Option<String>,

    /// Length of one evaluation period, in seconds, for the metric named by metricName: 10, 20 or
    /// 30 (high-resolution metrics only; billed as a high-resolution alarm) or a multiple of 60,
    /// at most 604800 (seven days). period × evaluationPeriods may not exceed 86400 seconds (one
    /// day) when period is under 3600, or 604800 seconds (seven days) otherwise. Required with
    /// metricName; not allowed with metrics (each entry carries its own period) or with
    /// evaluationCriteria (use evaluationInterval). No default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10, max = 604800))]
    #[x_kube(validation = Rule::new(PERIOD_RULE).message(PERIOD_MESSAGE))]
    pub period: Option<i32>,

    /// Unit of the metric named by metricName, for example Percent or Bytes/Second. Usually
    /// best left unset: CloudWatch then evaluates whatever unit the metric is published with,
    /// while a unit the metric does not use leaves the alarm in INSUFFICIENT_DATA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<StandardUnit>,

    /// Number of most recent periods compared with the threshold: N in an M-out-of-N alarm, at
    /// least 1. period × evaluationPeriods may not exceed one day (period under 3600 seconds) or
    /// seven days (longer periods). Required except for PromQL alarms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 8640))]
    pub evaluation_periods: Option<i32>,

    /// Number of breaching data points, among the last evaluationPeriods, that put the alarm in
    /// ALARM: M in an M-out-of-N alarm, from 1 to evaluationPeriods. Default: evaluationPeriods
    /// (every evaluated data point must breach). Not allowed for PromQL alarms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 8640))]
    pub datapoints_to_alarm: Option<i32>,

    /// Static threshold the watched value is compared with, using comparisonOperator. Set
    /// threshold or thresholdMetricId (anomaly detection), not both. Not allowed for PromQL
    /// alarms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,

    /// How the watched value is compared with the threshold: GreaterThanOrEqualToThreshold,
    /// GreaterThanThreshold, LessThanThreshold or LessThanOrEqualToThreshold with threshold;
    /// LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold or
    /// GreaterThanUpperThreshold with an anomaly detection band (thresholdMetricId). Required
    /// except for PromQL alarms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison_operator: Option<ComparisonOperator>,

    /// How missing data points count: missing (the alarm looks further back for data; AWS's
    /// default when unset), notBreaching (count as within the threshold), breaching (count as
    /// breaching) or ignore (keep the current state). Alarms on AWS/DynamoDB metrics always ignore
    /// missing data. Not allowed for PromQL alarms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treat_missing_data: Option<TreatMissingData>,

    /// For percentile alarms only: evaluate (AWS's default when unset) evaluates the alarm however
    /// few data points there are; ignore keeps the alarm's state while there are too few samples
    /// to be statistically significant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluate_low_sample_count_percentile: Option<EvaluateLowSampleCountPercentile>,

    /// Metric math: 1 to 20 entries (at most 10 fetching a metric with metricStat, at most 10
    /// computing an expression), each with a unique id. Exactly one entry returns data (the
    /// value the alarm watches); set returnData: false on the others. For an anomaly detection
    /// alarm, one entry is ANOMALY_DETECTION_BAND(...) and thresholdMetricId names it. Set
    /// exactly one of metricName, metrics or evaluationCriteria.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 20))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["id".into()]))]
    pub metrics: Vec<MetricDataQuery>,

    /// For an anomaly detection alarm: the id of the entry in metrics whose expression is
    /// ANOMALY_DETECTION_BAND(...). The alarm compares the watched value with that band, using
    /// one of the band comparison operators. Mutually exclusive with threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub threshold_metric_id: Option<String>,

    /// A PromQL alarm: the query and how long a contributor must breach or recover. Set exactly
    /// one of metricName, metrics or evaluationCriteria. Requires evaluationInterval; the
    /// condition lives in the query, so comparisonOperator, threshold, evaluationPeriods and
    /// datapointsToAlarm are not allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation_criteria: Option<EvaluationCriteria>,

    /// How often a PromQL alarm (evaluationCriteria) is evaluated, in seconds: 10, 20, 30 or a
    /// multiple of 60, at most 3600. Required with evaluationCriteria and not allowed otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10, max = 3600))]
    #[x_kube(validation = Rule::new(PERIOD_RULE).message(PERIOD_MESSAGE))]
    pub evaluation_interval: Option<i32>,

    /// Which range of data each evaluation reads: slidingWindow: {} (AWS's default when unset)
    /// rolls with every evaluation; wallClockWindow aligns to clock boundaries such as the top of
    /// the hour or midnight, and needs a period of 60, 300, 3600, 86400 or 604800 seconds. Not
    /// allowed for PromQL alarms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation_window: Option<EvaluationWindow>,

    /// Delays evaluation after the alarm is created or updated, so a service that is still
    /// starting does not trigger it: the alarm stays in INSUFFICIENT_DATA and runs no actions
    /// meanwhile. Default: no warm-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_up_configuration: Option<WarmUpConfiguration>,

    /// Changes what the alarm's notifications and state-change events contain. Default: AWS's
    /// standard content, without the alarm's tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_configuration: Option<ActionConfiguration>,

    /// Tags on the alarm: at most 48 (AWS allows 50 per alarm, and the operator's two ownership
    /// tags take two of them); keys of 1 to 128 characters, values of at most 256. Keys starting
    /// with aws: in any letter case (reserved by AWS) or cwo.dev/ (the operator's ownership
    /// tags) are refused. Changes are applied with TagResource and UntagResource. Default: none.
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
}

impl Default for AlarmSpec {
    /// The spec of an empty manifest, with the same defaults as the API server fills in (for
    /// example actionsEnabled: true), so code and cluster agree on what "unset" means.
    fn default() -> Self {
        empty_spec()
    }
}

/// A MetricFilter whose metric an alarm watches.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MetricFilterRef {
    /// Name of the MetricFilter object, in the alarm's namespace.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,

    /// Which of the filter's metric transformations, by its metricName. Default: the filter's
    /// only one (CloudWatch Logs gives a filter exactly one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub metric_name: Option<String>,
}

/// A dimension: a name/value pair that identifies one time series of a metric.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct Dimension {
    /// Dimension name, for example InstanceId: 1 to 255 printable ASCII characters, not all
    /// spaces, not starting with a colon.
    #[schemars(length(min = 1, max = 255), pattern(DIMENSION_NAME_PATTERN))]
    pub name: String,
    /// Dimension value, for example i-0123456789abcdef0: 1 to 1024 printable ASCII characters,
    /// not all spaces.
    #[schemars(length(min = 1, max = 1024), pattern(DIMENSION_VALUE_PATTERN))]
    pub value: String,
}

/// One entry of a metric math alarm: a metric to fetch (metricStat) or an expression to compute.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.metricStat) != has(self.expression)").message(
    "each entry of metrics needs exactly one of metricStat (fetch a metric) or expression (metric math, a Metrics Insights query or ANOMALY_DETECTION_BAND)"
))]
pub struct MetricDataQuery {
    /// Short name of this entry, unique within metrics, used to refer to it from expressions and
    /// from thresholdMetricId: letters, digits and underscores, starting with a lowercase letter,
    /// 1 to 255 characters. Example: m1.
    #[schemars(length(min = 1, max = 255), regex(pattern = r"^[a-z][a-zA-Z0-9_]*$"))]
    pub id: String,

    /// The metric to fetch, with its statistic and period. Set metricStat or expression, not
    /// both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_stat: Option<MetricStat>,

    /// Metric math over other entries' ids (for example (m1 / m2) * 100), a Metrics Insights
    /// query, or ANOMALY_DETECTION_BAND(m1, 2) for an anomaly detection alarm. 1 to 2048
    /// characters. Set metricStat or expression, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2048))]
    pub expression: Option<String>,

    /// Human-readable label for this entry, shown in the console and dashboards. Default: a
    /// label CloudWatch generates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub label: Option<String>,

    /// Whether this entry is the value the alarm watches. Default: true, so set false on every
    /// entry but one (for an anomaly detection alarm, the watched metric and the band both return
    /// data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_data: Option<bool>,

    /// Period, in seconds, of an expression entry that queries metrics itself (Metrics
    /// Insights): 10, 20, 30 or a multiple of 60. Entries with metricStat set the period there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 10, max = 604800))]
    #[x_kube(validation = Rule::new(PERIOD_RULE).message(PERIOD_MESSAGE))]
    pub period: Option<i32>,

    /// AWS account that holds the metric, for cross-account alarms in a monitoring account
    /// (1 to 255 characters). Default: this account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 255))]
    pub account_id: Option<String>,
}

/// A metric to fetch, with the statistic and period to aggregate it over.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MetricStat {
    /// The metric: namespace, name and dimensions.
    pub metric: Metric,

    /// Aggregation period, in seconds: 10, 20 or 30 (high-resolution metrics) or a multiple of
    /// 60, at most 604800. period × evaluationPeriods may not exceed one day (period under 3600
    /// seconds) or seven days (longer periods).
    #[schemars(range(min = 10, max = 604800))]
    #[x_kube(validation = Rule::new(PERIOD_RULE).message(PERIOD_MESSAGE))]
    pub period: i32,

    /// Statistic: SampleCount, Average, Sum, Minimum, Maximum, or an extended statistic in the
    /// forms extendedStatistic takes, such as p99, tm90, TM(10%:90%), PR(:300) or IQM.
    #[schemars(length(min = 1, max = 100), pattern(STATISTIC_PATTERN))]
    pub stat: String,

    /// Unit to fetch, for example Percent. Usually best left unset (see spec.unit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<StandardUnit>,
}

/// A CloudWatch metric, identified by namespace, name and dimensions.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    /// Namespace, for example AWS/ApplicationELB (1 to 255 characters, not starting with a
    /// colon).
    #[schemars(length(min = 1, max = 255), regex(pattern = r"^[^:].*$"))]
    pub namespace: String,

    /// Metric name, for example HTTPCode_Target_5XX_Count (1 to 255 characters).
    #[schemars(length(min = 1, max = 255))]
    pub metric_name: String,

    /// Dimensions: at most 30, each name at most once. Default: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 30))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub dimensions: Vec<Dimension>,
}

/// The evaluation criteria of a PromQL alarm.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.promQLCriteria)").message(
    "evaluationCriteria needs promQLCriteria"
))]
pub struct EvaluationCriteria {
    /// The PromQL query and its pending and recovery periods.
    #[serde(
        rename = "promQLCriteria",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub prom_ql_criteria: Option<PromQlCriteria>,
}

/// A PromQL alarm condition.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PromQlCriteria {
    /// PromQL query returning an instant vector; each series in the result is a contributor
    /// that can breach on its own. 1 to 10000 characters.
    #[schemars(length(min = 1, max = 10000))]
    pub query: String,

    /// Seconds a contributor must breach continuously before the alarm goes to ALARM, 0 to
    /// 86400. Default: AWS's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 86400))]
    pub pending_period: Option<i32>,

    /// Seconds a contributor must stay below the condition before it returns to OK, 0 to 86400.
    /// Default: AWS's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 86400))]
    pub recovery_period: Option<i32>,
}

/// The range of data an alarm reads on each evaluation: exactly one of slidingWindow or
/// wallClockWindow.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.slidingWindow) != has(self.wallClockWindow)").message(
    "evaluationWindow needs exactly one of slidingWindow: {} or wallClockWindow"
))]
pub struct EvaluationWindow {
    /// A window that rolls forward with every evaluation (AWS's default). Written as
    /// slidingWindow: {}.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sliding_window: Option<SlidingWindow>,

    /// A window aligned to clock boundaries that match the period (top of the minute, hour, day
    /// or week), optionally in a time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_clock_window: Option<WallClockWindow>,
}

/// A sliding evaluation window. It has no settings.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
pub struct SlidingWindow {}

/// An evaluation window aligned to clock boundaries.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct WallClockWindow {
    /// Time zone of the clock boundaries: an IANA name (America/New_York), a UTC offset
    /// (+05:30) or an offset-prefixed name (UTC+05:30); offsets are multiples of 5 minutes. 1 to
    /// 50 characters. Default: UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 50))]
    #[x_kube(validation = Rule::new(
        "!self.matches('^(UTC)?[+-]') || self.matches('^(UTC)?[+-]([01][0-9]|2[0-3]):[0-5][05]$')"
    ).message(
        "a UTC offset is written +HH:MM or UTC+HH:MM (or with -), in whole multiples of 5 minutes, for example +05:30"
    ))]
    pub timezone: Option<String>,
}

/// Warm-up after the alarm is created or updated.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct WarmUpConfiguration {
    /// Length of the warm-up, in minutes, from 1 to 2880 (two days). Changing it after the
    /// warm-up ended does not start a new one.
    #[schemars(range(min = 1, max = 2880))]
    pub warm_up_period_duration_in_minutes: i32,

    /// With true, the alarm waits the whole warm-up before evaluating even if data arrives
    /// sooner. Default: false (evaluation starts as soon as the evaluation window has data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_start_evaluating_after_warm_up_period_ends: Option<bool>,
}

/// A statistic CloudWatch computes for every metric.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
pub enum Statistic {
    SampleCount,
    Average,
    Sum,
    Minimum,
    Maximum,
}

/// How an alarm compares the watched value with its threshold or anomaly band.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
pub enum ComparisonOperator {
    GreaterThanOrEqualToThreshold,
    GreaterThanThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
    LessThanLowerOrGreaterThanUpperThreshold,
    LessThanLowerThreshold,
    GreaterThanUpperThreshold,
}

/// How an alarm treats missing data points.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub enum TreatMissingData {
    // AWS's default.
    #[default]
    Missing,
    Ignore,
    Breaching,
    NotBreaching,
}

/// How a percentile alarm treats periods with too few samples.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum EvaluateLowSampleCountPercentile {
    // AWS's default.
    #[default]
    Evaluate,
    Ignore,
}

/// What the operator last saw of the alarm in CloudWatch.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AlarmStatus {
    /// Conditions, observed generation, ARN, region and AWS name, shared by every kind.
    #[serde(flatten)]
    pub common: CommonStatus,

    /// Live state of the alarm in CloudWatch: OK, ALARM or INSUFFICIENT_DATA. A new alarm starts
    /// in INSUFFICIENT_DATA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_value: Option<AlarmState>,

    /// Why CloudWatch put the alarm in its current state, in CloudWatch's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,

    /// When the alarm's state was last updated, including updates that kept the same state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_updated_timestamp: Option<Time>,

    /// When the alarm last moved to a different state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_transitioned_timestamp: Option<Time>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn default_spec_is_an_empty_manifest_with_the_api_servers_defaults() {
        let spec = AlarmSpec::default();
        assert!(spec.actions_enabled);
        assert_eq!(
            serde_json::to_value(&spec).expect("spec serializes"),
            json!({
                "deletionPolicy": "Delete",
                "adoption": "Never",
                "managementPolicy": "Manage",
                "actionsEnabled": true,
            })
        );
    }

    #[test]
    fn dimension_names_and_values_are_printable_ascii_and_names_do_not_start_with_a_colon() {
        let name = regex::Regex::new(DIMENSION_NAME_PATTERN).expect("pattern compiles");
        let value = regex::Regex::new(DIMENSION_VALUE_PATTERN).expect("pattern compiles");
        for ok in ["InstanceId", "a", " x", "x:y", "~!", "Service Name"] {
            assert!(name.is_match(ok), "name {ok:?} refused");
            assert!(value.is_match(ok), "value {ok:?} refused");
        }
        for bad in ["", " ", "   ", "na\u{ef}ve", "a\tb", "a\nb", "\u{7f}"] {
            assert!(!name.is_match(bad), "name {bad:?} accepted");
            assert!(!value.is_match(bad), "value {bad:?} accepted");
        }
        assert!(!name.is_match(":InstanceId"));
        assert!(
            value.is_match(":InstanceId"),
            "only names may not start with a colon"
        );
    }

    #[test]
    fn units_and_states_use_cloudwatchs_spelling() {
        assert_eq!(
            serde_json::to_value(StandardUnit::BytesPerSecond).expect("unit serializes"),
            "Bytes/Second"
        );
        assert_eq!(
            serde_json::to_value(AlarmState::InsufficientData).expect("state serializes"),
            "INSUFFICIENT_DATA"
        );
        assert_eq!(
            serde_json::to_value(TreatMissingData::NotBreaching).expect("value serializes"),
            "notBreaching"
        );
    }
}
