//! CloudWatch: metric and composite alarms, metric streams and their tags.
//!
//! CloudWatch is `@awsQueryCompatible`: errors carry the legacy query code (`LimitExceeded`,
//! `ResourceNotFound`, `ValidationError`) in the `x-amzn-query-error` header, which is what
//! the SDKs match their typed errors on, and the Smithy shape id in `__type`.

mod alarm_checks;
mod alarm_state;
mod composite_alarms;
pub mod composite_rule;
mod delete_alarms;
mod describe_alarms;
mod metric_alarms;
pub mod metric_math;
mod metric_queries;
mod metric_streams;
pub mod model;
pub mod state;
mod statistics;
mod tagging;

use crate::call::{Call, reply, unit};
use crate::error::{AwsError, AwsResult};
use crate::wire::{Encoded, Protocol};

pub use state::CloudWatchState;

/// Runs one CloudWatch operation.
pub fn dispatch(
    call: &mut Call<'_>,
    operation: &str,
    protocol: Protocol,
    body: &[u8],
) -> AwsResult<Encoded> {
    match operation {
        "PutMetricAlarm" => unit(protocol, body, |i| metric_alarms::put_metric_alarm(call, i)),
        "PutCompositeAlarm" => unit(protocol, body, |i| {
            composite_alarms::put_composite_alarm(call, i)
        }),
        "DescribeAlarms" => reply(protocol, body, |i| {
            describe_alarms::describe_alarms(call, i)
        }),
        "DeleteAlarms" => unit(protocol, body, |i| delete_alarms::delete_alarms(call, i)),
        "SetAlarmState" => unit(protocol, body, |i| alarm_state::set_alarm_state(call, i)),
        "TagResource" => reply(protocol, body, |i| tagging::tag_resource(call, i)),
        "UntagResource" => reply(protocol, body, |i| tagging::untag_resource(call, i)),
        "ListTagsForResource" => {
            reply(protocol, body, |i| tagging::list_tags_for_resource(call, i))
        }
        "PutMetricStream" => reply(protocol, body, |i| {
            metric_streams::put_metric_stream(call, i)
        }),
        "GetMetricStream" => reply(protocol, body, |i| {
            metric_streams::get_metric_stream(call, i)
        }),
        "ListMetricStreams" => reply(protocol, body, |i| {
            metric_streams::list_metric_streams(call, i)
        }),
        "DeleteMetricStream" => reply(protocol, body, |i| {
            metric_streams::delete_metric_stream(call, i)
        }),
        "StartMetricStreams" => reply(protocol, body, |i| {
            metric_streams::set_running(call, i, true)
        }),
        "StopMetricStreams" => reply(protocol, body, |i| {
            metric_streams::set_running(call, i, false)
        }),
        other => Err(AwsError::unknown_operation(other)),
    }
}

const SHAPE_PREFIX: &str = "com.amazonaws.cloudwatch#";

fn modelled(status: u16, code: &str, shape: &str, message: impl Into<String>) -> AwsError {
    AwsError::new(status, code, message).with_type(format!("{SHAPE_PREFIX}{shape}"))
}

/// Request validation failures (model constraints and most semantic rules).
pub fn validation_error(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ValidationError", message)
        .with_type("com.amazon.coral.validate#ValidationException")
}

pub fn invalid_parameter_value(message: impl Into<String>) -> AwsError {
    modelled(
        400,
        "InvalidParameterValue",
        "InvalidParameterValueException",
        message,
    )
}

pub fn invalid_parameter_combination(message: impl Into<String>) -> AwsError {
    modelled(
        400,
        "InvalidParameterCombination",
        "InvalidParameterCombinationException",
        message,
    )
}

pub fn missing_parameter(message: impl Into<String>) -> AwsError {
    modelled(
        400,
        "MissingParameter",
        "MissingRequiredParameterException",
        message,
    )
}

/// `ResourceNotFound` (404), the alarm operations' not-found error.
pub fn alarm_not_found(message: impl Into<String>) -> AwsError {
    modelled(404, "ResourceNotFound", "ResourceNotFound", message)
}

/// `ResourceNotFoundException` (404), the tagging and metric stream not-found error.
pub fn resource_not_found(
    resource_type: &str,
    resource_id: &str,
    message: impl Into<String>,
) -> AwsError {
    modelled(
        404,
        "ResourceNotFoundException",
        "ResourceNotFoundException",
        message,
    )
    .with_field("ResourceType", resource_type)
    .with_field("ResourceId", resource_id)
}

pub fn invalid_next_token(message: impl Into<String>) -> AwsError {
    modelled(400, "InvalidNextToken", "InvalidNextToken", message)
}

pub fn invalid_format(message: impl Into<String>) -> AwsError {
    modelled(400, "InvalidFormat", "InvalidFormatFault", message)
}
