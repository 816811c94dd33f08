//! Checks shared by PutMetricAlarm and PutCompositeAlarm.

use crate::error::AwsResult;
use crate::tags::{self, MAX_TAGS_PER_RESOURCE, Tag};
use crate::validation::{Violations, element_path};

use super::{invalid_parameter_value, validation_error};

pub const STATE_VALUES: &[&str] = &["OK", "ALARM", "INSUFFICIENT_DATA"];

/// Model constraints on the alarm name, description and the three action lists
/// (at most 5 ARNs each, 1–1024 characters).
pub fn check_common(
    v: &mut Violations,
    name: Option<&String>,
    description: Option<&str>,
    action_lists: [(&str, Option<&Vec<String>>); 3],
) {
    v.required("alarmName", name)
        .length("alarmName", name.map(String::as_str), 1, Some(255))
        .length("alarmDescription", description, 0, Some(1024));
    for (path, list) in action_lists {
        v.count(path, list.map(Vec::as_slice), 0, Some(5));
        for (i, action) in list.into_iter().flatten().enumerate() {
            v.length(&element_path(path, i), Some(action), 1, Some(1024));
        }
    }
}

/// Every action must be an ARN; composite alarms only accept SNS, Lambda, Systems Manager
/// and Incident Manager actions (no EC2 or Auto Scaling actions).
pub fn check_action_arns(lists: [Option<&Vec<String>>; 3], composite: bool) -> AwsResult<()> {
    for action in lists.into_iter().flatten().flatten() {
        let parts: Vec<&str> = action.splitn(6, ':').collect();
        if parts.len() < 5 || parts[0] != "arn" || parts[2].is_empty() {
            return Err(validation_error(format!("Invalid arn syntax: {action}")));
        }
        if composite && !["sns", "lambda", "ssm", "ssm-incidents", "aiops"].contains(&parts[2]) {
            return Err(validation_error(format!(
                "Composite alarms do not support the action {action}: only Amazon SNS, Lambda, \
                 Systems Manager and Incident Manager actions are allowed"
            )));
        }
    }
    Ok(())
}

/// Tags given at creation: model constraints, at most 50, no `aws:` keys.
pub fn check_creation_tags(v: &mut Violations, tag_list: Option<&Vec<Tag>>) {
    tags::check_tags(v, "tags", tag_list.map(Vec::as_slice));
}

pub fn check_tag_rules(tag_list: Option<&Vec<Tag>>) -> AwsResult<()> {
    let tag_list = tag_list.map(Vec::as_slice).unwrap_or_default();
    if tag_list.len() > MAX_TAGS_PER_RESOURCE {
        return Err(invalid_parameter_value(format!(
            "The number of tags exceeds the limit of {MAX_TAGS_PER_RESOURCE}"
        )));
    }
    if let Some(key) = tags::reserved_key(tag_list) {
        return Err(invalid_parameter_value(format!(
            "Invalid tag key {key}: the aws: prefix is reserved for AWS"
        )));
    }
    Ok(())
}
