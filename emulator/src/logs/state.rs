//! CloudWatch Logs state of one account and region.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogGroup {
    pub name: String,
    pub creation_time: i64,
    pub kms_key_id: Option<String>,
    pub log_group_class: String,
    pub deletion_protection_enabled: bool,
    pub tags: BTreeMap<String, String>,
    /// Subscription filters by name.
    pub filters: BTreeMap<String, SubscriptionFilter>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LogsState {
    pub groups: BTreeMap<String, LogGroup>,
}
