//! Step 2 of the CompositeAlarm reconcile: DescribeAlarms' composite alarm in the same normal
//! form as the desired configuration. The rule AWS stores is re-rendered canonically, so spacing
//! or quoting AWS may change is not mistaken for drift.

use super::desired::{CompositeConfig, CompositeFields, normalize};
use super::rule;
use crate::cloudwatch_alarm::spec::ActionConfiguration;
use aws_sdk_cloudwatch::types as cw;

/// The configuration of a composite alarm as AWS reports it.
pub fn observed(alarm: &cw::CompositeAlarm) -> CompositeConfig {
    let raw_rule = alarm.alarm_rule.clone().unwrap_or_default();
    CompositeConfig {
        name: alarm.alarm_name.clone().unwrap_or_default(),
        fields: normalize(CompositeFields {
            description: alarm.alarm_description.clone(),
            actions_enabled: alarm.actions_enabled.unwrap_or(true),
            ok_actions: alarm.ok_actions().to_vec(),
            alarm_actions: alarm.alarm_actions().to_vec(),
            insufficient_data_actions: alarm.insufficient_data_actions().to_vec(),
            // A rule that does not parse cannot equal ours: keep it as AWS wrote it.
            alarm_rule: rule::canonical(&raw_rule).unwrap_or(raw_rule),
            actions_suppressor: alarm.actions_suppressor.clone(),
            actions_suppressor_wait_period: alarm.actions_suppressor_wait_period,
            actions_suppressor_extension_period: alarm.actions_suppressor_extension_period,
            action_configuration: alarm
                .action_configuration
                .as_ref()
                .map(ActionConfiguration::from_sdk),
        }),
    }
}
