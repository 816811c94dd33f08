//! Step 4 of the CompositeAlarm reconcile: the status from what was observed and resolved. Pure
//! and deterministic.

use super::spec::CompositeAlarmStatus;
use crate::cloudwatch_alarm::live::LiveState;
use crate::common_fields::CommonStatus;
use aws_sdk_cloudwatch::types as cw;
use std::collections::BTreeSet;

/// What the status reports about the rule.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResolvedView {
    pub rule: Option<String>,
    pub children: BTreeSet<String>,
}

/// The status for composite `aws_name` with the live state `live`, read as `record` (if it was).
pub fn status(
    aws_name: &str,
    record: Option<&cw::CompositeAlarm>,
    live: &LiveState,
    resolved: &ResolvedView,
    previous: Option<&CompositeAlarmStatus>,
) -> CompositeAlarmStatus {
    let common = previous.map(|p| p.common.clone()).unwrap_or_default();
    let live = live.clone();
    CompositeAlarmStatus {
        common: CommonStatus {
            arn: live.arn.clone(),
            aws_name: Some(aws_name.to_string()),
            ..common
        },
        state_value: live.state,
        state_reason: live.reason,
        state_updated_timestamp: live.updated,
        state_transitioned_timestamp: live.transitioned,
        actions_suppressed_by: record
            .and_then(|r| r.actions_suppressed_by.as_ref())
            .map(|s| s.as_str().to_string()),
        actions_suppressed_reason: record.and_then(|r| r.actions_suppressed_reason.clone()),
        resolved_alarm_rule: resolved.rule.clone(),
        resolved_children: resolved.children.iter().cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_deterministic_and_lists_children_sorted() {
        let view = ResolvedView {
            rule: Some("ALARM(\"a\") OR ALARM(\"b\")".into()),
            children: ["b".to_string(), "a".to_string()].into(),
        };
        let record = cw::CompositeAlarm::builder()
            .alarm_name("c")
            .alarm_arn("arn:aws:cloudwatch:us-east-1:123456789012:alarm:c")
            .state_value(cw::StateValue::Ok)
            .build();
        let live = crate::cloudwatch_alarm::live::of_composite_alarm(&record);
        let a = status("c", Some(&record), &live, &view, None);
        let b = status("c", Some(&record), &live, &view, Some(&a));
        assert_eq!(a, b);
        assert_eq!(a.resolved_children, vec!["a", "b"]);
        assert_eq!(
            a.common.arn.as_deref(),
            Some("arn:aws:cloudwatch:us-east-1:123456789012:alarm:c")
        );
    }
}
