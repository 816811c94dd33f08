//! Batched reads of CloudWatch Logs metric filters, one listing per log group (see
//! [`LogGroupReader`]), and TestMetricFilter.
//!
//! DescribeMetricFilters lists a log group's metric filters (at most 100 per log group) 50 per
//! page; its quota is 5 calls per second for the account and region. Reconciles of metric filters
//! on one log group share one listing, and the drift resync reads each log group of a chunk once.

use super::api::Api;
use super::log_group_reader::{ListGroup, Listing, LogGroupReader, in_every_log_group};
use super::{Aws, Location};
use crate::error::Error;
use crate::reason::Reason;
use aws_sdk_cloudwatchlogs::types::{MetricFilter, MetricFilterMatchRecord};
use std::sync::Arc;
use std::time::Duration;

/// DescribeMetricFilters returns at most 50 filters per page.
const PAGE_SIZE: i32 = 50;

/// Reads metric filters in batches, one listing per log group.
pub type MetricFilterReader = LogGroupReader<MetricFilter>;

impl LogGroupReader<MetricFilter> {
    /// A reader that waits at least `window` (and while the rate limit is saturated) for
    /// reconciles asking about the same log group, and keeps prefetched listings for
    /// `prefetch_ttl`.
    pub fn new(aws: Arc<Aws>, window: Duration, prefetch_ttl: Duration) -> Arc<Self> {
        let list: ListGroup<MetricFilter> = Arc::new(|aws, location, group, in_slot| {
            Box::pin(async move { list_group(&aws, &location, &group, in_slot).await })
        });
        LogGroupReader::with_listing(aws, Api::DescribeMetricFilters, window, prefetch_ttl, list)
    }
}

/// Every metric filter of every log group at `location`. What `import` reads.
pub async fn list_all(aws: &Aws, location: &Location) -> Result<Vec<MetricFilter>, Error> {
    in_every_log_group(aws, location, |group| async move {
        list_group(aws, location, &group, false).await
    })
    .await
}

/// Every metric filter of one log group (all pages), or `None` when the log group does not
/// exist; `in_slot` when the first page goes out in a rate-limit slot the caller holds (a
/// batch's).
async fn list_group(
    aws: &Aws,
    location: &Location,
    group: &str,
    in_slot: bool,
) -> Result<Listing<MetricFilter>, Error> {
    let client = &aws.clients(location).logs;
    let mut filters = Vec::new();
    let mut next_token: Option<String> = None;
    let mut first_in_slot = in_slot;
    loop {
        let request = client
            .describe_metric_filters()
            .log_group_name(group)
            .limit(PAGE_SIZE)
            .set_next_token(next_token.take())
            .send();
        let sent = if std::mem::take(&mut first_in_slot) {
            aws.call_in_slot(location, Api::DescribeMetricFilters, request)
                .await
        } else {
            aws.call(location, Api::DescribeMetricFilters, request)
                .await
        };
        let out = match sent {
            Ok(out) => out,
            // ResourceNotFoundException: the log group does not exist.
            Err(e) if e.reason == Reason::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        filters.extend(out.metric_filters().iter().cloned());
        match out.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
            _ => return Ok(Some(filters)),
        }
    }
}

/// TestMetricFilter: the events among `messages` that `pattern` matches, with the values it
/// extracts from each. At most 50 messages per call (AWS's limit, which the schema keeps).
pub async fn test(
    aws: &Aws,
    location: &Location,
    pattern: &str,
    messages: &[String],
) -> Result<Vec<MetricFilterMatchRecord>, Error> {
    let client = &aws.clients(location).logs;
    let request = client
        .test_metric_filter()
        .filter_pattern(pattern)
        .set_log_event_messages(Some(messages.to_vec()))
        .send();
    let out = aws.call(location, Api::TestMetricFilter, request).await?;
    Ok(out.matches().to_vec())
}
