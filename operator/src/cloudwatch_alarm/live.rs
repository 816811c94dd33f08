//! An alarm's live state as CloudWatch reports it (metric or composite), and what the status and
//! Events say about it.

use super::spec::AlarmState;
use crate::aws::wire::{from_wire, time, to_wire};
use aws_sdk_cloudwatch::types as cw;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// The live state CloudWatch reports for an alarm.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveState {
    pub arn: Option<String>,
    pub state: Option<AlarmState>,
    pub reason: Option<String>,
    pub updated: Option<Time>,
    pub transitioned: Option<Time>,
}

/// Builds the live state from the fields both record types carry.
macro_rules! live_state {
    ($alarm:expr) => {
        LiveState {
            arn: $alarm.alarm_arn.clone(),
            state: $alarm
                .state_value
                .as_ref()
                .and_then(|s| from_wire(s.as_str())),
            reason: $alarm.state_reason.clone(),
            updated: $alarm.state_updated_timestamp.as_ref().and_then(time),
            transitioned: $alarm.state_transitioned_timestamp.as_ref().and_then(time),
        }
    };
}

/// The live state of a metric alarm.
pub fn of_metric_alarm(alarm: &cw::MetricAlarm) -> LiveState {
    live_state!(alarm)
}

/// The live state of a composite alarm.
pub fn of_composite_alarm(alarm: &cw::CompositeAlarm) -> LiveState {
    live_state!(alarm)
}

/// A just-created alarm that AWS does not list yet: CloudWatch starts every new alarm in
/// INSUFFICIENT_DATA.
pub fn just_created() -> LiveState {
    LiveState {
        state: Some(AlarmState::InsufficientData),
        reason: Some("Created; CloudWatch has not evaluated the alarm yet".to_string()),
        ..Default::default()
    }
}

/// An Event note when the live state moved, e.g. `OK → ALARM: Threshold Crossed: …`.
pub fn state_change(previous: Option<AlarmState>, live: &LiveState) -> Option<String> {
    let before = previous?;
    let after = live.state?;
    (before != after).then(|| {
        format!(
            "{} → {}: {}",
            to_wire(&before),
            to_wire(&after),
            live.reason.as_deref().unwrap_or("no reason given")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(state: AlarmState) -> LiveState {
        LiveState {
            arn: Some("arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu".into()),
            state: Some(state),
            reason: Some("Threshold Crossed".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_state_change_is_reported_once() {
        let note = state_change(Some(AlarmState::Ok), &live(AlarmState::Alarm)).unwrap();
        assert_eq!(note, "OK → ALARM: Threshold Crossed");
        assert_eq!(
            state_change(Some(AlarmState::Ok), &live(AlarmState::Ok)),
            None
        );
        assert_eq!(state_change(None, &live(AlarmState::Alarm)), None);
    }

    #[test]
    fn both_record_types_give_the_same_live_state() {
        let metric = cw::MetricAlarm::builder()
            .alarm_arn("arn:a")
            .state_value(cw::StateValue::InsufficientData)
            .state_reason("new")
            .state_updated_timestamp(aws_smithy_types::DateTime::from_secs(5))
            .build();
        let composite = cw::CompositeAlarm::builder()
            .alarm_arn("arn:a")
            .state_value(cw::StateValue::InsufficientData)
            .state_reason("new")
            .state_updated_timestamp(aws_smithy_types::DateTime::from_secs(5))
            .build();
        let a = of_metric_alarm(&metric);
        assert_eq!(a, of_composite_alarm(&composite));
        assert_eq!(a.state, Some(AlarmState::InsufficientData));
        assert!(a.updated.is_some());
    }
}
