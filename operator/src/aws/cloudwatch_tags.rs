//! Tags on CloudWatch resources (alarms, composite alarms, metric streams): ListTagsForResource,
//! TagResource and UntagResource by ARN.

use super::api::Api;
use super::{Aws, Location, tag_sync};
use crate::error::Error;
use crate::tags::TagDiff;
use aws_sdk_cloudwatch::types::Tag;
use std::collections::BTreeMap;

/// The tags on the resource `arn`.
pub async fn list(
    aws: &Aws,
    location: &Location,
    arn: &str,
) -> Result<BTreeMap<String, String>, Error> {
    let client = &aws.clients(location).cloudwatch;
    let out = aws
        .call(
            location,
            Api::CloudWatchListTagsForResource,
            client.list_tags_for_resource().resource_arn(arn).send(),
        )
        .await?;
    Ok(out
        .tags()
        .iter()
        .map(|t| {
            let key = t.key().unwrap_or_default().to_string();
            (key, t.value().unwrap_or_default().to_string())
        })
        .collect())
}

/// Applies `diff` to the resource `arn`.
pub async fn apply(aws: &Aws, location: &Location, arn: &str, diff: &TagDiff) -> Result<(), Error> {
    let client = &aws.clients(location).cloudwatch;
    let set = client.tag_resource().set_tags(Some(sdk_tags(&diff.set)));
    let remove = client
        .untag_resource()
        .set_tag_keys(Some(diff.remove.clone()));
    let set = (Api::CloudWatchTagResource, set.resource_arn(arn).send());
    let remove = (
        Api::CloudWatchUntagResource,
        remove.resource_arn(arn).send(),
    );
    tag_sync::apply(aws, location, diff, set, remove).await
}

/// Tags in the SDK's shape (for TagResource, and for the create calls that carry tags).
pub fn sdk_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}
