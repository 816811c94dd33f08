//! CloudWatch Logs (awsJson 1.1): log groups, subscription filters, metric filters and
//! destinations.
//!
//! Logs errors carry the shape name as their code and answer HTTP 400, including
//! `ResourceNotFoundException`. Model-constraint failures answer `InvalidParameterException`
//! with AWS's validator message.

mod access_policy;
mod destinations;
pub mod filter_pattern;
pub mod filter_store;
mod log_groups;
mod metric_filters;
mod metric_transformation;
mod selection_criteria;
pub mod state;
mod subscription_filters;
mod tagging;

use std::collections::BTreeMap;

use crate::call::{Call, reply, unit};
use crate::error::{AwsError, AwsResult};
use crate::validation::{Violations, all_chars};
use crate::wire::{Encoded, Protocol};
use filter_pattern::PatternError;

pub use state::LogsState;

pub fn dispatch(
    call: &mut Call<'_>,
    operation: &str,
    protocol: Protocol,
    body: &[u8],
) -> AwsResult<Encoded> {
    match operation {
        "CreateLogGroup" => unit(protocol, body, |i| log_groups::create_log_group(call, i)),
        "DeleteLogGroup" => unit(protocol, body, |i| log_groups::delete_log_group(call, i)),
        "DescribeLogGroups" => reply(protocol, body, |i| log_groups::describe_log_groups(call, i)),
        "PutSubscriptionFilter" => unit(protocol, body, |i| {
            subscription_filters::put_subscription_filter(call, i)
        }),
        "DescribeSubscriptionFilters" => reply(protocol, body, |i| {
            subscription_filters::describe_subscription_filters(call, i)
        }),
        "DeleteSubscriptionFilter" => unit(protocol, body, |i| {
            subscription_filters::delete_subscription_filter(call, i)
        }),
        "PutMetricFilter" => unit(protocol, body, |i| {
            metric_filters::put_metric_filter(call, i)
        }),
        "DescribeMetricFilters" => reply(protocol, body, |i| {
            metric_filters::describe_metric_filters(call, i)
        }),
        "DeleteMetricFilter" => unit(protocol, body, |i| {
            metric_filters::delete_metric_filter(call, i)
        }),
        "TestMetricFilter" => reply(protocol, body, metric_filters::test_metric_filter),
        "PutDestination" => reply(protocol, body, |i| destinations::put_destination(call, i)),
        "PutDestinationPolicy" => unit(protocol, body, |i| {
            destinations::put_destination_policy(call, i)
        }),
        "DescribeDestinations" => reply(protocol, body, |i| {
            destinations::describe_destinations(call, i)
        }),
        "DeleteDestination" => unit(protocol, body, |i| {
            destinations::delete_destination(call, i)
        }),
        "TagResource" => unit(protocol, body, |i| tagging::tag_resource(call, i)),
        "UntagResource" => unit(protocol, body, |i| tagging::untag_resource(call, i)),
        "ListTagsForResource" => {
            reply(protocol, body, |i| tagging::list_tags_for_resource(call, i))
        }
        other => Err(AwsError::unknown_operation(other)),
    }
}

pub fn invalid_parameter(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidParameterException", message)
}

pub fn resource_not_found(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ResourceNotFoundException", message)
}

/// AWS's answer to a pattern it cannot parse; `filter` says whose (`metric`,
/// `subscription`).
pub fn invalid_pattern(error: &PatternError, filter: &str) -> AwsError {
    tracing::debug!(?error, "filter pattern refused");
    invalid_parameter(match error {
        PatternError::InvalidTerm(term) => format!("Invalid character(s) in term '{term}'"),
        PatternError::TooManyRegexes(_) => format!(
            "A filter pattern can contain at most {} regular expressions",
            filter_pattern::MAX_REGEX_PER_PATTERN
        ),
        PatternError::Syntax(_) => format!("Invalid {filter} filter pattern"),
    })
}

pub fn log_group_not_found() -> AwsError {
    resource_not_found("The specified log group does not exist.")
}

/// `[\.\-_/#A-Za-z0-9]+`, 1–512 characters.
pub fn check_log_group_name(v: &mut Violations, path: &str, name: Option<&str>) {
    v.length(path, name, 1, Some(512))
        .pattern(path, name, r"[\.\-_/#A-Za-z0-9]+", |n| {
            all_chars(n, |c| c.is_ascii_alphanumeric() || "._-/#".contains(c))
        });
}

/// Logs tags (log groups, destinations): 1–50, keys of 1–128 and values of up to 256 of the
/// model's characters.
pub fn check_tags(v: &mut Violations, tags: Option<&BTreeMap<String, String>>) {
    const KEY_PATTERN: &str = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$";
    const VALUE_PATTERN: &str = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$";
    let Some(tags) = tags else {
        return;
    };
    let entries: Vec<_> = tags.iter().collect();
    v.count("tags", Some(&entries[..]), 1, Some(50));
    for (key, value) in tags {
        v.length("tags.key", Some(key), 1, Some(128))
            .model_pattern("tags.key", Some(key), KEY_PATTERN)
            .length("tags.value", Some(value), 0, Some(256))
            .model_pattern("tags.value", Some(value), VALUE_PATTERN);
    }
}

/// Filter names: `[^:*]*`, 1–512 characters.
pub fn check_filter_name(v: &mut Violations, path: &str, name: Option<&str>) {
    v.length(path, name, 1, Some(512))
        .pattern(path, name, "[^:*]*", |n| !n.contains([':', '*']));
}
