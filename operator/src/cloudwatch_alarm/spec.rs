//! Spec types metric alarms and composite alarms share: both are CloudWatch alarms, with the
//! same live states and the same action configuration.

use aws_sdk_cloudwatch::types as cw;
use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What an alarm's notifications and state-change events contain.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ActionConfiguration {
    /// Include the alarm's tags in SNS and Lambda notifications and in EventBridge
    /// state-change events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm_tags_propagation: Option<AlarmTagsPropagation>,
}

/// Which of the alarm's tags its notifications carry.
#[derive(Clone, Debug, Default, Deserialize, Serialize, KubeSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(has(self.includedTagKeys) && has(self.excludedTagKeys))").message(
    "includedTagKeys and excludedTagKeys are mutually exclusive: list the keys to include, or the keys to leave out"
))]
pub struct AlarmTagsPropagation {
    /// true includes the alarm's tags in its notifications and events; false stops it. Tags
    /// whose keys start with aws: are never included.
    pub enabled: bool,

    /// Include only the tags with these keys: 1 to 50 keys of 1 to 128 characters. Default:
    /// all tags. Mutually exclusive with excludedTagKeys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 50), inner(length(min = 1, max = 128)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub included_tag_keys: Vec<String>,

    /// Include every tag except those with these keys: 1 to 50 keys of 1 to 128 characters.
    /// Mutually exclusive with includedTagKeys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1, max = 50), inner(length(min = 1, max = 128)))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub excluded_tag_keys: Vec<String>,
}

/// State of a CloudWatch alarm.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlarmState {
    Ok,
    #[default]
    Alarm,
    InsufficientData,
}

/// The spec of an empty manifest, with the same defaults as the API server fills in (for example
/// actionsEnabled: true), so code and cluster agree on what "unset" means.
pub fn empty_spec<S: serde::de::DeserializeOwned>() -> S {
    serde_json::from_value(serde_json::json!({})).expect("an empty spec deserializes")
}

/// serde default for booleans that default to true.
pub fn default_true() -> bool {
    true
}

/// Puts an alarm's three action lists (OK, ALARM, INSUFFICIENT_DATA) in normal form: AWS keeps
/// each as a set.
pub fn normalize_actions(lists: [&mut Vec<String>; 3]) {
    for actions in lists {
        actions.sort();
        actions.dedup();
    }
}

impl ActionConfiguration {
    /// Normal form: the tag key lists are sets.
    pub fn normalized(mut self) -> Self {
        if let Some(p) = self.alarm_tags_propagation.as_mut() {
            p.included_tag_keys.sort();
            p.excluded_tag_keys.sort();
        }
        self
    }

    /// As PutMetricAlarm and PutCompositeAlarm take it (`None` when there is nothing to send).
    pub fn to_sdk(&self) -> Option<cw::ActionConfiguration> {
        let p = self.alarm_tags_propagation.as_ref()?;
        let non_empty = |v: &[String]| (!v.is_empty()).then(|| v.to_vec());
        Some(
            cw::ActionConfiguration::builder()
                .alarm_tags_propagation(
                    cw::AlarmTagsPropagation::builder()
                        .enabled(p.enabled)
                        .set_included_tag_keys(non_empty(&p.included_tag_keys))
                        .set_excluded_tag_keys(non_empty(&p.excluded_tag_keys))
                        .build(),
                )
                .build(),
        )
    }

    /// As DescribeAlarms reports it.
    pub fn from_sdk(a: &cw::ActionConfiguration) -> Self {
        ActionConfiguration {
            alarm_tags_propagation: a.alarm_tags_propagation.as_ref().map(|p| {
                AlarmTagsPropagation {
                    enabled: p.enabled.unwrap_or(false),
                    included_tag_keys: p.included_tag_keys().to_vec(),
                    excluded_tag_keys: p.excluded_tag_keys().to_vec(),
                }
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_action_configuration_survives_the_round_trip_through_the_sdk() {
        let config = ActionConfiguration {
            alarm_tags_propagation: Some(AlarmTagsPropagation {
                enabled: true,
                included_tag_keys: vec!["team".into(), "env".into()],
                excluded_tag_keys: vec![],
            }),
        }
        .normalized();
        let sent = config.to_sdk().unwrap();
        assert_eq!(ActionConfiguration::from_sdk(&sent), config);
        assert_eq!(ActionConfiguration::default().to_sdk(), None);
    }

    #[test]
    fn action_lists_are_sets() {
        let (mut ok, mut alarm, mut none) = (
            vec!["b".to_string(), "a".into(), "b".into()],
            vec![],
            vec!["x".to_string()],
        );
        normalize_actions([&mut ok, &mut alarm, &mut none]);
        assert_eq!(ok, ["a", "b"]);
    }
}
