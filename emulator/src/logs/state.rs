//! CloudWatch Logs state of one account and region.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::filter_store::{FilterStore, StoredFilter};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionFilter {
    pub filter_name: String,
    pub log_group_name: String,
    pub filter_pattern: String,
    pub destination_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    pub distribution: String,
    pub apply_on_transformed_logs: bool,
    /// Epoch milliseconds, as Logs reports times.
    pub creation_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_selection_criteria: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emit_system_fields: Option<Vec<String>>,
}

/// How matching events become a metric; stored and answered as PutMetricFilter received it
/// (an omitted unit stays omitted: the metric's unit is then `None`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricTransformation {
    pub metric_name: String,
    pub metric_namespace: String,
    pub metric_value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricFilter {
    pub filter_name: String,
    pub filter_pattern: String,
    pub metric_transformations: Vec<MetricTransformation>,
    /// Epoch milliseconds.
    pub creation_time: i64,
    pub log_group_name: String,
    pub apply_on_transformed_logs: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_selection_criteria: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emit_system_field_dimensions: Option<Vec<String>>,
}

impl StoredFilter for SubscriptionFilter {
    fn filter_name(&self) -> &str {
        &self.filter_name
    }
    fn creation_time(&self) -> i64 {
        self.creation_time
    }
}

impl StoredFilter for MetricFilter {
    fn filter_name(&self) -> &str {
        &self.filter_name
    }
    fn creation_time(&self) -> i64 {
        self.creation_time
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogGroup {
    pub name: String,
    pub creation_time: i64,
    pub kms_key_id: Option<String>,
    pub log_group_class: String,
    pub deletion_protection_enabled: bool,
    pub tags: BTreeMap<String, String>,
    /// Subscription filters by name.
    pub filters: FilterStore<SubscriptionFilter>,
    /// Metric filters by name (state files written before metric filters have none).
    #[serde(default)]
    pub metric_filters: FilterStore<MetricFilter>,
}

impl LogGroup {
    /// Filter patterns with a regular expression, metric and subscription filters together,
    /// leaving out the metric or subscription filter `except` names (the one being replaced).
    pub fn regex_patterns_except(&self, except: Except<'_>) -> usize {
        let metric = self
            .metric_filters
            .values()
            .filter(|f| except != Except::MetricFilter(&f.filter_name))
            .map(|f| f.filter_pattern.as_str());
        let subscription = self
            .filters
            .values()
            .filter(|f| except != Except::SubscriptionFilter(&f.filter_name))
            .map(|f| f.filter_pattern.as_str());
        metric
            .chain(subscription)
            .filter(|p| {
                super::filter_pattern::FilterPattern::parse(p).is_ok_and(|p| p.regex_count() > 0)
            })
            .count()
    }
}

/// Which filter a count leaves out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Except<'a> {
    MetricFilter(&'a str),
    SubscriptionFilter(&'a str),
}

/// A Logs destination: the receiving side of cross-account subscriptions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Destination {
    pub name: String,
    pub target_arn: String,
    pub role_arn: String,
    pub access_policy: Option<String>,
    pub arn: String,
    pub creation_time: i64,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LogsState {
    pub groups: BTreeMap<String, LogGroup>,
    /// Destinations by name (state files written before destinations have none).
    #[serde(default)]
    pub destinations: BTreeMap<String, Destination>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Logs part of a state file written before metric filters and destinations.
    const EARLIER_STATE: &str = r#"{"groups": {"/app": {"name": "/app", "creation_time": 1,
        "kms_key_id": null, "log_group_class": "STANDARD", "deletion_protection_enabled": false,
        "tags": {}, "filters": {}}}}"#;

    #[test]
    fn state_files_written_before_metric_filters_and_destinations_still_load() {
        let state: LogsState = serde_json::from_str(EARLIER_STATE).unwrap();
        assert_eq!(state.groups["/app"].metric_filters.values().count(), 0);
        assert!(state.destinations.is_empty());
    }
}
