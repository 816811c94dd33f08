//! Firehose state of one account and region.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::timestamp::Timestamp;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryStream {
    pub name: String,
    pub arn: String,
    pub stream_type: String,
    pub status: String,
    pub created: Timestamp,
    pub version_id: String,
    /// The source configuration member and its value, e.g.
    /// (`KinesisStreamSourceConfiguration`, {...}).
    pub source: Option<(String, Value)>,
    /// The destination configuration member and its value, e.g.
    /// (`ExtendedS3DestinationConfiguration`, {...}).
    pub destination: (String, Value),
    pub encryption: Option<Value>,
    pub tags: BTreeMap<String, String>,
}

impl DeliveryStream {
    pub fn is_active(&self) -> bool {
        self.status == "ACTIVE"
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FirehoseState {
    pub streams: BTreeMap<String, DeliveryStream>,
}
