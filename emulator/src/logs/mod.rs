//! CloudWatch Logs (awsJson 1.1): log groups and subscription filters.
//!
//! Logs errors carry the shape name as their code and answer HTTP 400, including
//! `ResourceNotFoundException`. Model-constraint failures answer `InvalidParameterException`
//! with AWS's validator message.

mod log_groups;
pub mod state;
mod subscription_filters;

use crate::call::{Call, reply, unit};
use crate::error::{AwsError, AwsResult};
use crate::validation::{Violations, all_chars};
use crate::wire::{Encoded, Protocol};

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
        other => Err(AwsError::unknown_operation(other)),
    }
}

pub fn invalid_parameter(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidParameterException", message)
}

pub fn resource_not_found(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ResourceNotFoundException", message)
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

/// Filter names: `[^:*]*`, 1–512 characters.
pub fn check_filter_name(v: &mut Violations, path: &str, name: Option<&str>) {
    v.length(path, name, 1, Some(512))
        .pattern(path, name, "[^:*]*", |n| !n.contains([':', '*']));
}
