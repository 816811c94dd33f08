//! Batched reads of CloudWatch Logs metric filters, one listing per log group (see
//! [`LogGroupReader`]), and TestMetricFilter.
//!
//! DescribeMetricFilters lists a log group's metric filters (at most 100 per log group) 50 per
//! page; its quota is 5 calls per second for the account and region. Reconciles of metric filters
//! on one log group share one listing, and the drift resync reads each log group of a chunk once.

use super::api::Api;
use super::log_group_reader::{LogGroupItem, LogGroupReader, Page};
use super::{Aws, Location};
use crate::error::Error;
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::operation::describe_metric_filters::DescribeMetricFiltersError;
use aws_sdk_cloudwatchlogs::types::{MetricFilter, MetricFilterMatchRecord};

/// Reads metric filters in batches, one listing per log group.
pub type MetricFilterReader = LogGroupReader<MetricFilter>;

impl LogGroupItem for MetricFilter {
    const API: Api = Api::DescribeMetricFilters;
    type Error = DescribeMetricFiltersError;

    async fn page(client: &Client, group: &str, limit: i32, token: Option<String>) -> Page<Self> {
        let request = client
            .describe_metric_filters()
            .log_group_name(group)
            .limit(limit);
        let out = request.set_next_token(token).send().await?;
        Ok((out.metric_filters.unwrap_or_default(), out.next_token))
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
