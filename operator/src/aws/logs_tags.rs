//! Tags on CloudWatch Logs resources (destinations): ListTagsForResource, TagResource and
//! UntagResource by ARN. PutDestination takes tags only when it creates the destination.

use super::api::Api;
use super::{Aws, Location, tag_sync};
use crate::error::Error;
use crate::tags::TagDiff;
use std::collections::{BTreeMap, HashMap};

/// The tags on the resource `arn`.
pub async fn list(
    aws: &Aws,
    location: &Location,
    arn: &str,
) -> Result<BTreeMap<String, String>, Error> {
    let client = &aws.clients(location).logs;
    let request = client.list_tags_for_resource().resource_arn(arn).send();
    let out = aws
        .call(location, Api::LogsListTagsForResource, request)
        .await?;
    Ok(out
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

/// Applies `diff` to the resource `arn`.
pub async fn apply(aws: &Aws, location: &Location, arn: &str, diff: &TagDiff) -> Result<(), Error> {
    let client = &aws.clients(location).logs;
    let set = client.tag_resource().set_tags(Some(sdk_tags(&diff.set)));
    let remove = client
        .untag_resource()
        .set_tag_keys(Some(diff.remove.clone()));
    let set = (Api::LogsTagResource, set.resource_arn(arn).send());
    let remove = (Api::LogsUntagResource, remove.resource_arn(arn).send());
    tag_sync::apply(aws, location, diff, set, remove).await
}

/// Tags in the Logs SDK's shape.
pub fn sdk_tags(tags: &BTreeMap<String, String>) -> HashMap<String, String> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}
