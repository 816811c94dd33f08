//! Step 4 of the Alarm reconcile: the status to write, from what was observed and done. Pure and
//! deterministic: the same observation gives the same status, so nothing is written when nothing
//! changed.

use super::spec::AlarmStatus;
use crate::cloudwatch_alarm::live::LiveState;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::AlarmState;

    #[test]
    fn status_is_deterministic() {
        let live = LiveState {
            arn: Some("arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu".into()),
            state: Some(AlarmState::Ok),
            reason: Some("Threshold Crossed".into()),
            ..Default::default()
        };
        let a = status("cpu", &live, None);
        let b = status("cpu", &live, Some(&a));
        assert_eq!(a, b);
        assert_eq!(a.common.aws_name.as_deref(), Some("cpu"));
    }
}
