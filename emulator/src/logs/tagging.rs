//! TagResource, UntagResource and ListTagsForResource for CloudWatch Logs resources named by
//! ARN: destinations (`arn:aws:logs:<region>:<account>:destination:<name>`).
//!
//! AWS semantics modelled: tags are a map; TagResource adds or overwrites, UntagResource removes
//! the keys given (unknown keys are ignored); a resource holds at most 50 tags
//! (`TooManyTagsException`); keys are 1–128 and values 0–256 characters of Unicode letters,
//! digits, spaces and `_ . : / = + - @`, and `aws:` keys are reserved; a resource that does not
//! exist in the caller's account and region answers `ResourceNotFoundException`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{invalid_parameter, resource_not_found};
use crate::arn::Arn;
use crate::call::Call;
use crate::error::{AwsError, AwsResult};
use crate::validation::Violations;

/// Tags one Logs resource may carry.
const MAX_TAGS: usize = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagResourceInput {
    pub resource_arn: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UntagResourceInput {
    pub resource_arn: Option<String>,
    pub tag_keys: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTagsForResourceInput {
    pub resource_arn: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListTagsForResourceOutput {
    pub tags: BTreeMap<String, String>,
}

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

/// The tags of the resource `arn`, if it exists in the caller's account and region.
fn tags_of<'s>(call: &'s mut Call<'_>, arn: &str) -> AwsResult<&'s mut BTreeMap<String, String>> {
    let parsed = Arn::parse(arn)
        .filter(|a| a.service == "logs")
        .ok_or_else(|| invalid_parameter(format!("Invalid resourceArn {arn}")))?;
    let not_found = || resource_not_found(format!("The specified resource {arn} does not exist."));
    if !parsed.is_in(call.scope) {
        return Err(not_found());
    }
    match parsed.resource.split_once(':') {
        Some(("destination", name)) => call
            .state
            .logs
            .destinations
            .get_mut(name)
            .map(|d| &mut d.tags)
            .ok_or_else(not_found),
        _ => Err(not_found()),
    }
}

fn required_arn(arn: Option<&String>) -> AwsResult<()> {
    let mut v = Violations::new();
    v.required("resourceArn", arn)
        .length("resourceArn", arn.map(String::as_str), 1, Some(1011));
    v.finish(invalid_parameter)
}

pub fn tag_resource(call: &mut Call<'_>, input: TagResourceInput) -> AwsResult<()> {
    required_arn(input.resource_arn.as_ref())?;
    let mut v = Violations::new();
    v.required("tags", input.tags.as_ref());
    for (key, value) in input.tags.iter().flatten() {
        v.length("tags.key", Some(key), 1, Some(128))
            .pattern(
                "tags.key",
                Some(key),
                r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$",
                |k| !k.is_empty() && k.chars().all(is_tag_char),
            )
            .length("tags.value", Some(value), 0, Some(256))
            .pattern(
                "tags.value",
                Some(value),
                r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$",
                |v| v.chars().all(is_tag_char),
            );
    }
    v.finish(invalid_parameter)?;
    let new = input.tags.expect("checked above");
    if let Some(reserved) = new
        .keys()
        .find(|k| k.to_ascii_lowercase().starts_with("aws:"))
    {
        return Err(invalid_parameter(format!(
            "Tag keys starting with aws: are reserved: {reserved}"
        )));
    }
    let tags = tags_of(call, input.resource_arn.as_deref().expect("checked above"))?;
    let mut after = tags.clone();
    after.extend(new);
    if after.len() > MAX_TAGS {
        return Err(AwsError::bad_request(
            "TooManyTagsException",
            format!("A resource can have at most {MAX_TAGS} tags"),
        ));
    }
    *tags = after;
    Ok(())
}

pub fn untag_resource(call: &mut Call<'_>, input: UntagResourceInput) -> AwsResult<()> {
    required_arn(input.resource_arn.as_ref())?;
    let mut v = Violations::new();
    v.required("tagKeys", input.tag_keys.as_ref());
    v.finish(invalid_parameter)?;
    let tags = tags_of(call, input.resource_arn.as_deref().expect("checked above"))?;
    for key in input.tag_keys.iter().flatten() {
        tags.remove(key);
    }
    Ok(())
}

pub fn list_tags_for_resource(
    call: &mut Call<'_>,
    input: ListTagsForResourceInput,
) -> AwsResult<ListTagsForResourceOutput> {
    required_arn(input.resource_arn.as_ref())?;
    let tags = tags_of(call, input.resource_arn.as_deref().expect("checked above"))?;
    Ok(ListTagsForResourceOutput { tags: tags.clone() })
}
