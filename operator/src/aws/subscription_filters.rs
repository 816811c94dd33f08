//! Batched reads of CloudWatch Logs subscription filters, one listing per log group (see
//! [`LogGroupReader`]).
//!
//! DescribeSubscriptionFilters lists a log group's filters (a handful at most: the per-group
//! limit is 2 to 5) and its quota is 5 calls per second for the account and region, not
//! adjustable. Each reconcile gets the whole listing, which also names the filters already there
//! when the per-group limit is reached.

use super::api::Api;
use super::log_group_reader::{LogGroupItem, LogGroupReader, Page};
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::operation::describe_subscription_filters::DescribeSubscriptionFiltersError;
use aws_sdk_cloudwatchlogs::types::SubscriptionFilter;

/// Reads subscription filters in batches, one listing per log group.
pub type SubscriptionFilterReader = LogGroupReader<SubscriptionFilter>;

impl LogGroupItem for SubscriptionFilter {
    const API: Api = Api::DescribeSubscriptionFilters;
    type Error = DescribeSubscriptionFiltersError;

    async fn page(client: &Client, group: &str, limit: i32, token: Option<String>) -> Page<Self> {
        let request = client
            .describe_subscription_filters()
            .log_group_name(group)
            .limit(limit);
        let out = request.set_next_token(token).send().await?;
        Ok((out.subscription_filters.unwrap_or_default(), out.next_token))
    }
}
