//! Tags on X-Ray sampling rules: ListTagsForResource (paged), TagResource and UntagResource by
//! rule ARN. CreateSamplingRule takes tags only when it creates the rule.

use super::api::Api;
use super::{Aws, Location, tag_sync};
use crate::error::Error;
use crate::tags::TagDiff;
use aws_sdk_xray::types::Tag;
use std::collections::BTreeMap;

/// The tags on the rule `arn`.
pub async fn list(
    aws: &Aws,
    location: &Location,
    arn: &str,
) -> Result<BTreeMap<String, String>, Error> {
    let client = &aws.clients(location).xray;
    let mut tags = BTreeMap::new();
    let mut next_token: Option<String> = None;
    loop {
        let request = client
            .list_tags_for_resource()
            .resource_arn(arn)
            .set_next_token(next_token.take())
            .send();
        let out = aws
            .call(location, Api::XRayListTagsForResource, request)
            .await?;
        tags.extend(
            out.tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string())),
        );
        match out.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
            _ => return Ok(tags),
        }
    }
}

/// Applies `diff` to the rule `arn`.
pub async fn apply(aws: &Aws, location: &Location, arn: &str, diff: &TagDiff) -> Result<(), Error> {
    let client = &aws.clients(location).xray;
    let set = client.tag_resource().set_tags(Some(sdk_tags(&diff.set)?));
    let remove = client
        .untag_resource()
        .set_tag_keys(Some(diff.remove.clone()));
    let set = (Api::XRayTagResource, set.resource_arn(arn).send());
    let remove = (Api::XRayUntagResource, remove.resource_arn(arn).send());
    tag_sync::apply(aws, location, diff, set, remove).await
}

/// Tags in the X-Ray SDK's shape (key and value are both required there).
pub fn sdk_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, Error> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| Error::invalid_spec(format!("tag {k:?}: {e}")))
        })
        .collect()
}
