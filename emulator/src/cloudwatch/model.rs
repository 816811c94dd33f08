//! CloudWatch shapes, named and spelled as in the API reference. The same types read
//! requests, hold state and write responses, so every member round-trips unchanged.

use serde::{Deserialize, Serialize};

use crate::tags::Tag;
use crate::timestamp::Timestamp;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dimension {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Metric {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<Vec<Dimension>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricStat {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<Metric>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stat: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDataQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_stat: Option<MetricStat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_data: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PromQlCriteria {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_period: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_period: Option<i64>,
}

/// A union in the model with one member today.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EvaluationCriteria {
    #[serde(rename = "PromQLCriteria", skip_serializing_if = "Option::is_none")]
    pub promql_criteria: Option<PromQlCriteria>,
}

/// `PutMetricAlarm` input. Every member is optional here so that missing required members
/// are reported with AWS's validation messages rather than as a decoding failure.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutMetricAlarmInput {
    pub alarm_name: Option<String>,
    pub alarm_description: Option<String>,
    pub actions_enabled: Option<bool>,
    #[serde(rename = "OKActions")]
    pub ok_actions: Option<Vec<String>>,
    pub alarm_actions: Option<Vec<String>>,
    pub insufficient_data_actions: Option<Vec<String>>,
    pub metric_name: Option<String>,
    pub namespace: Option<String>,
    pub statistic: Option<String>,
    pub extended_statistic: Option<String>,
    pub dimensions: Option<Vec<Dimension>>,
    pub period: Option<i64>,
    pub unit: Option<String>,
    pub evaluation_periods: Option<i64>,
    pub datapoints_to_alarm: Option<i64>,
    pub threshold: Option<f64>,
    pub comparison_operator: Option<String>,
    pub treat_missing_data: Option<String>,
    pub evaluate_low_sample_count_percentile: Option<String>,
    pub metrics: Option<Vec<MetricDataQuery>>,
    pub tags: Option<Vec<Tag>>,
    pub threshold_metric_id: Option<String>,
    pub evaluation_criteria: Option<EvaluationCriteria>,
    pub evaluation_interval: Option<i64>,
}

/// The live state every alarm carries; kept across configuration updates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlarmState {
    pub value: String,
    pub reason: String,
    pub reason_data: Option<String>,
    pub updated: Timestamp,
    pub transitioned: Timestamp,
}

impl AlarmState {
    /// New alarms start in INSUFFICIENT_DATA.
    pub fn initial(now: Timestamp) -> Self {
        Self {
            value: "INSUFFICIENT_DATA".into(),
            reason: "Unchecked: Initial alarm creation".into(),
            reason_data: None,
            updated: now,
            transitioned: now,
        }
    }

    /// Records a state report; the transition time moves only when the value changes.
    pub fn set(
        &mut self,
        value: &str,
        reason: String,
        reason_data: Option<String>,
        now: Timestamp,
    ) {
        if self.value != value {
            self.transitioned = now;
        }
        self.value = value.to_string();
        self.reason = reason;
        self.reason_data = reason_data;
        self.updated = now;
    }
}

/// A metric alarm as DescribeAlarms returns it (`MetricAlarm`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricAlarm {
    pub alarm_name: String,
    pub alarm_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarm_description: Option<String>,
    pub alarm_configuration_updated_timestamp: Timestamp,
    pub actions_enabled: bool,
    #[serde(rename = "OKActions")]
    pub ok_actions: Vec<String>,
    pub alarm_actions: Vec<String>,
    pub insufficient_data_actions: Vec<String>,
    pub state_value: String,
    pub state_reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason_data: Option<String>,
    pub state_updated_timestamp: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extended_statistic: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<Vec<Dimension>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation_periods: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datapoints_to_alarm: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison_operator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub treat_missing_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluate_low_sample_count_percentile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<MetricDataQuery>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold_metric_id: Option<String>,
    pub state_transitioned_timestamp: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation_criteria: Option<EvaluationCriteria>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation_interval: Option<i64>,
}

/// `PutCompositeAlarm` input.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutCompositeAlarmInput {
    pub actions_enabled: Option<bool>,
    pub alarm_actions: Option<Vec<String>>,
    pub alarm_description: Option<String>,
    pub alarm_name: Option<String>,
    pub alarm_rule: Option<String>,
    pub insufficient_data_actions: Option<Vec<String>>,
    #[serde(rename = "OKActions")]
    pub ok_actions: Option<Vec<String>>,
    pub tags: Option<Vec<Tag>>,
    pub actions_suppressor: Option<String>,
    pub actions_suppressor_wait_period: Option<i64>,
    pub actions_suppressor_extension_period: Option<i64>,
}

/// A composite alarm as DescribeAlarms returns it (`CompositeAlarm`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompositeAlarm {
    pub actions_enabled: bool,
    pub alarm_actions: Vec<String>,
    pub alarm_arn: String,
    pub alarm_configuration_updated_timestamp: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarm_description: Option<String>,
    pub alarm_name: String,
    pub alarm_rule: String,
    pub insufficient_data_actions: Vec<String>,
    #[serde(rename = "OKActions")]
    pub ok_actions: Vec<String>,
    pub state_reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_reason_data: Option<String>,
    pub state_updated_timestamp: Timestamp,
    pub state_value: String,
    pub state_transitioned_timestamp: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions_suppressor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions_suppressor_wait_period: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions_suppressor_extension_period: Option<i64>,
}

/// The reduced alarm view DescribeAlarms returns for ChildrenOfAlarmName (name, ARN, state
/// and state time) and ParentsOfAlarmName (name and ARN only).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmSummary {
    pub alarm_name: String,
    pub alarm_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_updated_timestamp: Option<Timestamp>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricStreamFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_names: Option<Vec<String>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatisticsMetric {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_name: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatisticsConfiguration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_metrics: Option<Vec<StatisticsMetric>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_statistics: Option<Vec<String>>,
}

/// `PutMetricStream` input.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutMetricStreamInput {
    pub name: Option<String>,
    pub include_filters: Option<Vec<MetricStreamFilter>>,
    pub exclude_filters: Option<Vec<MetricStreamFilter>>,
    pub firehose_arn: Option<String>,
    pub role_arn: Option<String>,
    pub output_format: Option<String>,
    pub tags: Option<Vec<Tag>>,
    pub statistics_configurations: Option<Vec<StatisticsConfiguration>>,
    pub include_linked_accounts_metrics: Option<bool>,
}

/// A metric stream as GetMetricStream returns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricStream {
    pub arn: String,
    pub name: String,
    pub include_filters: Vec<MetricStreamFilter>,
    pub exclude_filters: Vec<MetricStreamFilter>,
    pub firehose_arn: String,
    pub role_arn: String,
    pub state: String,
    pub creation_date: Timestamp,
    pub last_update_date: Timestamp,
    pub output_format: String,
    pub statistics_configurations: Vec<StatisticsConfiguration>,
    pub include_linked_accounts_metrics: bool,
}

/// One entry of ListMetricStreams.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricStreamEntry {
    pub arn: String,
    pub creation_date: Timestamp,
    pub last_update_date: Timestamp,
    pub name: String,
    pub firehose_arn: String,
    pub state: String,
    pub output_format: String,
}
