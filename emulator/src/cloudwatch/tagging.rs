//! TagResource, UntagResource and ListTagsForResource for alarms and metric streams.
//!
//! Resources are named by ARN; an ARN of another account or region, or of a resource that
//! does not exist, gets `ResourceNotFoundException` (404). A resource holds at most 50 tags.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{invalid_parameter_value, resource_not_found, validation_error};
use crate::arn::Arn;
use crate::call::{Call, Empty};
use crate::error::AwsResult;
use crate::tags::{self, MAX_TAGS_PER_RESOURCE, Tag};
use crate::validation::{Violations, element_path};

use super::state::CloudWatchState;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceInput {
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
    pub tags: Option<Vec<Tag>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceInput {
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
    pub tag_keys: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsForResourceInput {
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsForResourceOutput {
    pub tags: Vec<Tag>,
}

fn check_arn(v: &mut Violations, arn: Option<&String>) {
    v.required("resourceARN", arn)
        .length("resourceARN", arn.map(String::as_str), 1, Some(1024));
}

/// The tag map of the alarm or metric stream the ARN names.
fn tags_of<'s>(
    call: &'s mut Call<'_>,
    resource_arn: &str,
) -> AwsResult<&'s mut BTreeMap<String, String>> {
    let arn = Arn::parse(resource_arn)
        .filter(|arn| arn.service == "cloudwatch")
        .ok_or_else(|| invalid_parameter_value(format!("Invalid ARN: {resource_arn}")))?;
    let (resource_type, id) = if let Some(name) = arn.resource.strip_prefix("alarm:") {
        ("alarm", name)
    } else if let Some(name) = arn.resource.strip_prefix("metric-stream/") {
        ("metric-stream", name)
    } else {
        let kind = arn.resource.split([':', '/']).next().unwrap_or_default();
        (kind, arn.resource)
    };
    let not_found = || {
        resource_not_found(
            resource_type,
            id,
            format!("The resource {resource_arn} does not exist"),
        )
    };
    if !arn.is_in(call.scope) {
        return Err(not_found());
    }
    let CloudWatchState {
        alarms, streams, ..
    } = &mut call.state.cloudwatch;
    match resource_type {
        "alarm" => alarms
            .get_mut(id)
            .map(|a| &mut a.tags)
            .ok_or_else(not_found),
        "metric-stream" => streams
            .get_mut(id)
            .map(|s| &mut s.tags)
            .ok_or_else(not_found),
        _ => Err(not_found()),
    }
}

pub fn tag_resource(call: &mut Call<'_>, input: TagResourceInput) -> AwsResult<Empty> {
    let mut v = Violations::new();
    check_arn(&mut v, input.resource_arn.as_ref());
    v.required("tags", input.tags.as_ref());
    tags::check_tags(&mut v, "tags", input.tags.as_deref());
    v.finish(validation_error)?;
    let new_tags = input.tags.unwrap_or_default();
    if let Some(key) = tags::reserved_key(&new_tags) {
        return Err(invalid_parameter_value(format!(
            "Invalid tag key {key}: the aws: prefix is reserved for AWS"
        )));
    }
    let current = tags_of(call, input.resource_arn.as_deref().expect("checked above"))?;
    let mut merged = current.clone();
    merged.extend(tags::to_map(Some(&new_tags)));
    if merged.len() > MAX_TAGS_PER_RESOURCE {
        return Err(invalid_parameter_value(format!(
            "The number of tags exceeds the limit of {MAX_TAGS_PER_RESOURCE}"
        )));
    }
    *current = merged;
    Ok(Empty {})
}

pub fn untag_resource(call: &mut Call<'_>, input: UntagResourceInput) -> AwsResult<Empty> {
    let mut v = Violations::new();
    check_arn(&mut v, input.resource_arn.as_ref());
    v.required("tagKeys", input.tag_keys.as_ref());
    for (i, key) in input.tag_keys.iter().flatten().enumerate() {
        v.length(&element_path("tagKeys", i), Some(key), 1, Some(128));
    }
    v.finish(validation_error)?;
    let current = tags_of(call, input.resource_arn.as_deref().expect("checked above"))?;
    for key in input.tag_keys.iter().flatten() {
        current.remove(key);
    }
    Ok(Empty {})
}

pub fn list_tags_for_resource(
    call: &mut Call<'_>,
    input: ListTagsForResourceInput,
) -> AwsResult<ListTagsForResourceOutput> {
    let mut v = Violations::new();
    check_arn(&mut v, input.resource_arn.as_ref());
    v.finish(validation_error)?;
    let current = tags_of(call, input.resource_arn.as_deref().expect("checked above"))?;
    Ok(ListTagsForResourceOutput {
        tags: tags::to_list(current),
    })
}
