//! awsJson 1.0 / 1.1 and restJson 1 bodies.

use serde::{Serialize, de::DeserializeOwned};

use crate::error::{AwsError, AwsResult};

pub fn decode<T: DeserializeOwned>(body: &[u8]) -> AwsResult<T> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|err| AwsError::serialization(format!("Malformed JSON request body: {err}")))
}

pub fn encode<T: Serialize>(value: &T) -> AwsResult<Vec<u8>> {
    serde_json::to_vec(value)
        .map_err(|err| AwsError::new(500, "InternalFailure", format!("encoding failed: {err}")))
}

/// `{"__type": ..., "message": ...}`. restJson services such as X-Ray model the member as
/// `Message`, so both spellings are written there.
pub fn error_body(error: &AwsError, rest: bool) -> Vec<u8> {
    let mut map = error.fields.clone();
    map.insert("__type".into(), error.wire_type().into());
    map.insert("message".into(), error.message.clone().into());
    if rest {
        map.insert("Message".into(), error.message.clone().into());
    }
    serde_json::to_vec(&map).expect("a JSON map always serializes")
}
