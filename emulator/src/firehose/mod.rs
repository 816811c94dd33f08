//! Amazon Data Firehose (awsJson 1.1): the delivery stream calls the operator needs to
//! check a metric stream's destination and that tests need to build one.

mod configuration;
mod delivery_streams;
pub mod state;

use crate::call::{Call, reply};
use crate::error::{AwsError, AwsResult};
use crate::wire::{Encoded, Protocol};

pub use state::FirehoseState;

pub fn dispatch(
    call: &mut Call<'_>,
    operation: &str,
    protocol: Protocol,
    body: &[u8],
) -> AwsResult<Encoded> {
    match operation {
        "CreateDeliveryStream" => reply(protocol, body, |i| {
            delivery_streams::create_delivery_stream(call, i)
        }),
        "DescribeDeliveryStream" => reply(protocol, body, |i| {
            delivery_streams::describe_delivery_stream(call, i)
        }),
        "DeleteDeliveryStream" => reply(protocol, body, |i| {
            delivery_streams::delete_delivery_stream(call, i)
        }),
        "ListDeliveryStreams" => reply(protocol, body, |i| {
            delivery_streams::list_delivery_streams(call, i)
        }),
        other => Err(AwsError::unknown_operation(other)),
    }
}

/// Model-constraint failures.
pub fn validation(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ValidationException", message)
}

pub fn invalid_argument(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidArgumentException", message)
}
