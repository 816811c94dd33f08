//! Step 4 of the Alarm reconcile: the status to write, from what was observed and done. Pure and
//! deterministic: the same observation gives the same status, so nothing is written when nothing
//! changed.

use super::observed::LiveState;
use super::spec::{AlarmState, AlarmStatus};
use crate::common_fields::CommonStatus;

/// The status for an alarm named `aws_name` with this live state. `previous` keeps the
/// conditions (the runtime recomputes them) and what the runtime owns.
pub fn status(aws_name: &str, live: &LiveState, previous: Option<&AlarmStatus>) -> AlarmStatus {
    let common = previous.map(|p| p.common.clone()).unwrap_or_default();
    AlarmStatus {
        common: CommonStatus {
            arn: live.arn.clone(),
            aws_name: Some(aws_name.to_string()),
            ..common
        },
        state_value: live.state,
        state_reason: live.reason.clone(),
        state_updated_timestamp: live.updated.clone(),
        state_transitioned_timestamp: live.transitioned.clone(),
    }
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
            crate::aws::wire::to_wire(&before),
            crate::aws::wire::to_wire(&after),
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
    fn status_is_deterministic() {
        let a = status("cpu", &live(AlarmState::Ok), None);
        let b = status("cpu", &live(AlarmState::Ok), Some(&a));
        assert_eq!(a, b);
        assert_eq!(a.common.aws_name.as_deref(), Some("cpu"));
    }

    #[test]
    fn a_state_change_is_reported_once() {
        let before = status("cpu", &live(AlarmState::Ok), None);
        let note = state_change(before.state_value, &live(AlarmState::Alarm)).unwrap();
        assert_eq!(note, "OK → ALARM: Threshold Crossed");
        assert_eq!(
            state_change(before.state_value, &live(AlarmState::Ok)),
            None
        );
        assert_eq!(state_change(None, &live(AlarmState::Alarm)), None);
    }
}
