//! What an operation handler is given, and the glue from bytes to handler and back.

use serde::{Serialize, de::DeserializeOwned};

use crate::error::AwsResult;
use crate::signing_scope::Scope;
use crate::store::RegionState;
use crate::timestamp::Timestamp;
use crate::wire::{Encoded, Protocol};

/// Limits that are settings rather than AWS constants.
#[derive(Clone, Debug)]
pub struct ServiceLimits {
    pub subscription_filter_limit: usize,
}

/// One operation call: its account and region, the time it runs at, and that region's
/// state, locked for the duration of the call.
pub struct Call<'a> {
    pub scope: &'a Scope,
    pub now: Timestamp,
    pub state: &'a mut RegionState,
    pub limits: &'a ServiceLimits,
}

/// Decodes the input, runs the handler and encodes its output.
pub fn reply<I, O>(
    protocol: Protocol,
    body: &[u8],
    handler: impl FnOnce(I) -> AwsResult<O>,
) -> AwsResult<Encoded>
where
    I: DeserializeOwned,
    O: Serialize,
{
    let input = protocol.decode(body)?;
    let output = handler(input)?;
    protocol.encode(&output)
}

/// As [`reply`], for operations whose output is Smithy `Unit`.
pub fn unit<I>(
    protocol: Protocol,
    body: &[u8],
    handler: impl FnOnce(I) -> AwsResult<()>,
) -> AwsResult<Encoded>
where
    I: DeserializeOwned,
{
    let input = protocol.decode(body)?;
    handler(input)?;
    Ok(Encoded::Unit)
}

/// An output structure with no members (`TagResourceOutput`, ...).
#[derive(Serialize)]
pub struct Empty {}
