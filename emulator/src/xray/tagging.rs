//! TagResource, UntagResource and ListTagsForResource for sampling rules.
//!
//! An ARN that names no sampling rule of this account and region answers
//! `ResourceNotFoundException` (404); more than 50 user tags `TooManyTagsException`.

use serde::{Deserialize, Serialize};

use super::{TAG_PATTERN, check_tag_characters, invalid_request};
use crate::arn::Arn;
use crate::call::{Call, Empty};
use crate::error::{AwsError, AwsResult};
use crate::tags::{self, MAX_TAGS_PER_RESOURCE, Tag};
use crate::validation::{Violations, element_path};

use std::collections::BTreeMap;

#[derive(Debug, Default, Deserialize)]
pub struct TagResourceInput {
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
    #[serde(rename = "Tags")]
    pub tags: Option<Vec<Tag>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct UntagResourceInput {
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
    #[serde(rename = "TagKeys")]
    pub tag_keys: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListTagsForResourceInput {
    #[serde(rename = "ResourceARN")]
    pub resource_arn: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ListTagsForResourceOutput {
    #[serde(rename = "Tags")]
    pub tags: Vec<Tag>,
}

fn check_arn(v: &mut Violations, arn: Option<&String>) {
    v.required("resourceARN", arn)
        .length("resourceARN", arn.map(String::as_str), 1, Some(1011));
}

fn not_found(resource_arn: &str) -> AwsError {
    AwsError::new(
        404,
        "ResourceNotFoundException",
        format!("Resource {resource_arn} not found"),
    )
    .with_field("ResourceName", resource_arn)
}

fn tags_of<'s>(
    call: &'s mut Call<'_>,
    resource_arn: &str,
) -> AwsResult<&'s mut BTreeMap<String, String>> {
    let name = Arn::parse(resource_arn)
        .filter(|a| a.service == "xray" && a.is_in(call.scope))
        .and_then(|a| {
            a.resource
                .strip_prefix("sampling-rule/")
                .map(str::to_string)
        })
        .ok_or_else(|| not_found(resource_arn))?;
    call.state
        .xray
        .rules
        .get_mut(&name)
        .map(|r| &mut r.tags)
        .ok_or_else(|| not_found(resource_arn))
}

pub fn tag_resource(call: &mut Call<'_>, input: TagResourceInput) -> AwsResult<Empty> {
    let mut v = Violations::new();
    check_arn(&mut v, input.resource_arn.as_ref());
    v.required("tags", input.tags.as_ref())
        .count("tags", input.tags.as_deref(), 0, Some(200));
    tags::check_tags(&mut v, "tags", input.tags.as_deref());
    check_tag_characters(&mut v, "tags", input.tags.as_deref());
    v.finish(invalid_request)?;
    let new_tags = input.tags.unwrap_or_default();
    if let Some(key) = tags::reserved_key(&new_tags) {
        return Err(invalid_request(format!(
            "Invalid tag key {key}: the aws: prefix is reserved"
        )));
    }
    let resource_arn = input.resource_arn.expect("checked above");
    let current = tags_of(call, &resource_arn)?;
    let mut merged = current.clone();
    merged.extend(tags::to_map(Some(&new_tags)));
    if merged.len() > MAX_TAGS_PER_RESOURCE {
        return Err(AwsError::bad_request(
            "TooManyTagsException",
            format!("A resource can have at most {MAX_TAGS_PER_RESOURCE} tags"),
        )
        .with_field("ResourceName", resource_arn.as_str()));
    }
    *current = merged;
    Ok(Empty {})
}

pub fn untag_resource(call: &mut Call<'_>, input: UntagResourceInput) -> AwsResult<Empty> {
    let mut v = Violations::new();
    check_arn(&mut v, input.resource_arn.as_ref());
    v.required("tagKeys", input.tag_keys.as_ref()).count(
        "tagKeys",
        input.tag_keys.as_deref(),
        0,
        Some(200),
    );
    for (i, key) in input.tag_keys.iter().flatten().enumerate() {
        let at = element_path("tagKeys", i);
        v.length(&at, Some(key), 1, Some(128))
            .model_pattern(&at, Some(key), TAG_PATTERN);
    }
    v.finish(invalid_request)?;
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
    v.finish(invalid_request)?;
    let current = tags_of(call, input.resource_arn.as_deref().expect("checked above"))?;
    Ok(ListTagsForResourceOutput {
        tags: tags::to_list(current),
    })
}
