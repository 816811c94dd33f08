//! Timestamps as the AWS protocols carry them.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Seconds since the Unix epoch, kept to millisecond precision as AWS does.
///
/// JSON protocols carry timestamps as epoch-second numbers; RPC v2 CBOR requires CBOR tag 1
/// around the number (the Rust SDK refuses an untagged value). The CBOR serializer reports
/// itself as not human-readable, which is how this type tells the two apart.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Default)]
pub struct Timestamp(pub f64);

impl Timestamp {
    pub fn now() -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Self((now.as_millis() as f64) / 1000.0)
    }

    /// Milliseconds since the epoch, the unit CloudWatch Logs uses (`creationTime`).
    pub fn epoch_millis(self) -> i64 {
        (self.0 * 1000.0).round() as i64
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_f64(self.0)
        } else {
            ciborium::tag::Required::<f64, 1>(self.0).serialize(serializer)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The CBOR deserializer skips tags when asked for a plain number.
        f64::deserialize(deserializer).map(Timestamp)
    }
}
