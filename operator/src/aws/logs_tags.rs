//! Tags on CloudWatch Logs resources (destinations): ListTagsForResource, TagResource and
//! UntagResource by ARN. PutDestination takes tags only when it creates the destination.

use super::api::Api;
use super::{Aws, Location};
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
    if !diff.set.is_empty() {
        aws.call(
            location,
            Api::LogsTagResource,
            client
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(sdk_tags(&diff.set)))
                .send(),
        )
        .await?;
    }
    if !diff.remove.is_empty() {
        aws.call(
            location,
            Api::LogsUntagResource,
            client
                .untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(diff.remove.clone()))
                .send(),
        )
        .await?;
    }
    Ok(())
}

/// Tags in the Logs SDK's shape.
pub fn sdk_tags(tags: &BTreeMap<String, String>) -> HashMap<String, String> {
    tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}
