//! Smithy RPC v2 CBOR bodies.

use serde::{Serialize, de::DeserializeOwned};

use crate::error::{AwsError, AwsResult};

pub fn decode<T: DeserializeOwned>(body: &[u8]) -> AwsResult<T> {
    // An empty map (0xa0) stands in for an empty body.
    let body: &[u8] = if body.is_empty() { &[0xa0] } else { body };
    ciborium::de::from_reader(body)
        .map_err(|err| AwsError::serialization(format!("Malformed CBOR request body: {err}")))
}

pub fn encode<T: Serialize>(value: &T) -> AwsResult<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    ciborium::ser::into_writer(value, &mut out)
        .map_err(|err| AwsError::new(500, "InternalFailure", format!("encoding failed: {err}")))?;
    Ok(out)
}

/// `{"__type": ..., "message": ..., <extra members>}` as a CBOR map.
pub fn error_body(error: &AwsError) -> Vec<u8> {
    let mut map = error.fields.clone();
    map.insert("__type".into(), error.wire_type().into());
    map.insert("message".into(), error.message.clone().into());
    let mut out = Vec::new();
    ciborium::ser::into_writer(&map, &mut out).expect("a JSON map always encodes as CBOR");
    out
}
