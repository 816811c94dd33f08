//! Applying a tag difference to one resource, whichever the service: CloudWatch, CloudWatch Logs
//! and X-Ray each tag by ARN with a TagResource and an UntagResource of their own, and each
//! service module ([`super::cloudwatch_tags`], [`super::logs_tags`], [`super::xray_tags`]) builds
//! its two requests for [`apply`].

use super::api::Api;
use super::{Aws, Location};
use crate::error::Error;
use crate::tags::TagDiff;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::future::Future;

/// One tagging call: the operation, and the SDK's unsent request (nothing goes out before it is
/// awaited, so a call that is not needed is never made).
pub type TagCall<F> = (Api, F);

/// Applies `diff` at `location`: `tag` (TagResource with `diff.set`) only when there are tags to
/// set, then `untag` (UntagResource with `diff.remove`) only when there are keys to remove.
pub async fn apply<T, E, U, G>(
    aws: &Aws,
    location: &Location,
    diff: &TagDiff,
    tag: TagCall<impl Future<Output = Result<T, SdkError<E, HttpResponse>>>>,
    untag: TagCall<impl Future<Output = Result<U, SdkError<G, HttpResponse>>>>,
) -> Result<(), Error>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    G: ProvideErrorMetadata + std::error::Error + 'static,
{
    if !diff.set.is_empty() {
        aws.call(location, tag.0, tag.1).await?;
    }
    if !diff.remove.is_empty() {
        aws.call(location, untag.0, untag.1).await?;
    }
    Ok(())
}
