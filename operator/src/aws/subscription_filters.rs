//! Batched reads of CloudWatch Logs subscription filters, one listing per log group (see
//! [`LogGroupReader`]).
//!
//! DescribeSubscriptionFilters lists a log group's filters (a handful at most: the per-group
//! limit is 2 to 5) and its quota is 5 calls per second for the account and region, not
//! adjustable. Each reconcile gets the whole listing, which also names the filters already there
//! when the per-group limit is reached.

use super::api::Api;
use super::log_group_reader::{ListGroup, Listing, LogGroupReader, in_every_log_group};
use super::{Aws, Location};
use crate::error::Error;
use crate::reason::Reason;
use aws_sdk_cloudwatchlogs::types::SubscriptionFilter;
use std::sync::Arc;
use std::time::Duration;

/// DescribeSubscriptionFilters returns at most 50 filters per page.
const PAGE_SIZE: i32 = 50;

/// Reads subscription filters in batches, one listing per log group.
pub type SubscriptionFilterReader = LogGroupReader<SubscriptionFilter>;

impl LogGroupReader<SubscriptionFilter> {
    /// A reader that waits at least `window` (and while the rate limit is saturated) for
    /// reconciles asking about the same log group, and keeps prefetched listings for
    /// `prefetch_ttl`.
    pub fn new(aws: Arc<Aws>, window: Duration, prefetch_ttl: Duration) -> Arc<Self> {
        let list: ListGroup<SubscriptionFilter> = Arc::new(|aws, location, group, in_slot| {
            Box::pin(async move { list_group(&aws, &location, &group, in_slot).await })
        });
        LogGroupReader::with_listing(
            aws,
            Api::DescribeSubscriptionFilters,
            window,
            prefetch_ttl,
            list,
        )
    }
}

/// Every subscription filter of every log group at `location`. What `import` reads.
pub async fn list_all(aws: &Aws, location: &Location) -> Result<Vec<SubscriptionFilter>, Error> {
    in_every_log_group(aws, location, |group| async move {
        list_group(aws, location, &group, false).await
    })
    .await
}

/// Every filter of one log group (all pages), or `None` when the log group does not exist;
/// `in_slot` when the first page goes out in a rate-limit slot the caller holds (a batch's).
async fn list_group(
    aws: &Aws,
    location: &Location,
    group: &str,
    in_slot: bool,
) -> Result<Listing<SubscriptionFilter>, Error> {
    let client = &aws.clients(location).logs;
    let mut filters = Vec::new();
    let mut next_token: Option<String> = None;
    let mut first_in_slot = in_slot;
    loop {
        let request = client
            .describe_subscription_filters()
            .log_group_name(group)
            .limit(PAGE_SIZE)
            .set_next_token(next_token.take())
            .send();
        let sent = if std::mem::take(&mut first_in_slot) {
            aws.call_in_slot(location, Api::DescribeSubscriptionFilters, request)
                .await
        } else {
            aws.call(location, Api::DescribeSubscriptionFilters, request)
                .await
        };
        let out = match sent {
            Ok(out) => out,
            // ResourceNotFoundException: the log group does not exist.
            Err(e) if e.reason == Reason::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        filters.extend(out.subscription_filters().iter().cloned());
        match out.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
            _ => return Ok(Some(filters)),
        }
    }
}
