//! DeleteAlarms.
//!
//! AWS semantics modelled: up to 100 names, at most one of them a composite; names that do
//! not exist are ignored (the others are still deleted); an alarm still named in the rule
//! of a composite that is not deleted in the same call is refused, and then nothing is
//! deleted. This is what makes a composite cycle undeletable until one rule is changed.

use serde::Deserialize;

use super::validation_error;
use crate::call::Call;
use crate::error::AwsResult;
use crate::validation::{Violations, element_path};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteAlarmsInput {
    pub alarm_names: Option<Vec<String>>,
}

pub fn delete_alarms(call: &mut Call<'_>, input: DeleteAlarmsInput) -> AwsResult<()> {
    let mut v = Violations::new();
    v.required("alarmNames", input.alarm_names.as_ref()).count(
        "alarmNames",
        input.alarm_names.as_deref(),
        0,
        Some(100),
    );
    for (i, name) in input.alarm_names.iter().flatten().enumerate() {
        v.length(&element_path("alarmNames", i), Some(name), 1, Some(255));
    }
    v.finish(validation_error)?;

    let cloudwatch = &mut call.state.cloudwatch;
    let mut names: Vec<String> = input.alarm_names.unwrap_or_default();
    names.sort();
    names.dedup();
    names.retain(|name| cloudwatch.alarms.contains_key(name));

    let composites: Vec<&String> = names
        .iter()
        .filter(|n| cloudwatch.alarms[n.as_str()].alarm.is_composite())
        .collect();
    if composites.len() > 1 {
        return Err(validation_error(format!(
            "You can delete at most one composite alarm per call; got {}",
            composites.len()
        )));
    }
    for name in &names {
        let blocking: Vec<&String> = cloudwatch
            .parents_of(name)
            .filter(|parent| names.binary_search(parent).is_err())
            .collect();
        if !blocking.is_empty() {
            let blocking: Vec<&str> = blocking.iter().map(|s| s.as_str()).collect();
            return Err(validation_error(format!(
                "Could not delete the alarm {name} as it is used in the alarm rule of the \
                 composite alarms [{}]",
                blocking.join(", ")
            )));
        }
    }
    for name in names {
        if let Some(stored) = cloudwatch.alarms.remove(&name) {
            cloudwatch.unlink(&name, &stored.children);
        }
    }
    Ok(())
}
