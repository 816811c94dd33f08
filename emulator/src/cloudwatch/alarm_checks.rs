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

/// The three action lists of an alarm.
pub struct ActionLists<'a> {
    pub ok: Option<&'a [String]>,
    pub alarm: Option<&'a [String]>,
    pub insufficient_data: Option<&'a [String]>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum AlarmKind {
    Metric,
    Composite,
}

/// The ARN services each action list accepts, as the API reference lists its valid values:
/// metric alarms take EC2 (`automate`, `swf`), Auto Scaling, Lambda, SNS and Systems Manager
/// (OpsItems, Incident Manager) actions, and in AlarmActions also Amazon Q investigations
/// (`aiops`); composite alarms take SNS and Lambda actions in every list, and Systems Manager
/// and investigation actions in AlarmActions only.
fn allowed_services(kind: AlarmKind, list: &str) -> &'static [&'static str] {
    match (kind, list) {
        (AlarmKind::Metric, "AlarmActions") => &[
            "automate",
            "swf",
            "autoscaling",
            "lambda",
            "sns",
            "ssm",
            "ssm-incidents",
            "aiops",
        ],
        (AlarmKind::Metric, _) => &[
            "automate",
            "swf",
            "autoscaling",
            "lambda",
            "sns",
            "ssm",
            "ssm-incidents",
        ],
        (AlarmKind::Composite, "AlarmActions") => {
            &["sns", "lambda", "ssm", "ssm-incidents", "aiops"]
        }
        (AlarmKind::Composite, _) => &["sns", "lambda"],
    }
}

/// Every action is an ARN of a service its list accepts.
pub fn check_action_arns(lists: ActionLists<'_>, kind: AlarmKind) -> AwsResult<()> {
    let named = [
        ("OKActions", lists.ok),
        ("AlarmActions", lists.alarm),
        ("InsufficientDataActions", lists.insufficient_data),
    ];
    for (list, actions) in named {
        for action in actions.unwrap_or_default() {
            let parts: Vec<&str> = action.splitn(6, ':').collect();
            if parts.len() < 5 || parts[0] != "arn" || parts[2].is_empty() {
                return Err(validation_error(format!("Invalid arn syntax: {action}")));
            }
            if !allowed_services(kind, list).contains(&parts[2]) {
                let alarm = match kind {
                    AlarmKind::Metric => "metric alarms",
                    AlarmKind::Composite => "composite alarms",
                };
                return Err(validation_error(format!(
                    "The action {action} is not supported in {list} of {alarm}"
                )));
            }
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
