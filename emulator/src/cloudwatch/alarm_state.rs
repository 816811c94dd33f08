//! SetAlarmState: set an alarm's state by hand (how tests fire an alarm).
//!
//! The state lasts until the next evaluation in AWS; here alarms are not evaluated against
//! metric data, so it lasts until the next SetAlarmState. Composite alarms above the alarm
//! are re-evaluated at once. StateReasonData must be JSON (`InvalidFormat` otherwise).

use serde::Deserialize;

use super::alarm_checks::STATE_VALUES;
use super::{alarm_not_found, invalid_format, validation_error};
use crate::call::Call;
use crate::error::AwsResult;
use crate::validation::Violations;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetAlarmStateInput {
    pub alarm_name: Option<String>,
    pub state_value: Option<String>,
    pub state_reason: Option<String>,
    pub state_reason_data: Option<String>,
}

pub fn set_alarm_state(call: &mut Call<'_>, input: SetAlarmStateInput) -> AwsResult<()> {
    let mut v = Violations::new();
    v.required("alarmName", input.alarm_name.as_ref())
        .length("alarmName", input.alarm_name.as_deref(), 1, Some(255))
        .required("stateValue", input.state_value.as_ref())
        .one_of("stateValue", input.state_value.as_deref(), STATE_VALUES)
        .required("stateReason", input.state_reason.as_ref())
        .length("stateReason", input.state_reason.as_deref(), 0, Some(1023))
        .length(
            "stateReasonData",
            input.state_reason_data.as_deref(),
            0,
            Some(4000),
        );
    v.finish(validation_error)?;
    let name = input.alarm_name.expect("checked above");
    if let Some(data) = &input.state_reason_data
        && serde_json::from_str::<serde_json::Value>(data).is_err()
    {
        return Err(invalid_format("StateReasonData must be valid JSON"));
    }
    let cloudwatch = &mut call.state.cloudwatch;
    let stored = cloudwatch
        .alarms
        .get_mut(&name)
        .ok_or_else(|| alarm_not_found(format!("Alarm {name} not found")))?;
    let mut state = stored.alarm.state();
    let before = state.value.clone();
    state.set(
        input.state_value.as_deref().expect("checked above"),
        input.state_reason.expect("checked above"),
        input.state_reason_data,
        call.now,
    );
    let changed = state.value != before;
    stored.alarm.set_state(state);
    if changed {
        cloudwatch.propagate_state(&name, call.now);
    }
    Ok(())
}
