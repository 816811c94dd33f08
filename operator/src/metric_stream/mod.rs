//! Everything about `MetricStream`, a CloudWatch metric stream into a Firehose delivery stream.
//!
//! AWS calls: PutMetricStream (create or update; never changes the running state),
//! StartMetricStreams/StopMetricStreams (batched across streams), GetMetricStream,
//! TagResource/UntagResource/ListTagsForResource (PutMetricStream ignores tags on update),
//! DeleteMetricStream, and Firehose DescribeDeliveryStream to check and report the destination.

pub mod controller;
pub mod desired;
pub mod diff;
pub mod firehose;
pub mod import;
pub mod observed;
pub mod spec;
pub mod status;
pub mod validate;

pub use spec::*;

use crate::aws::Aws;
use crate::aws::metric_stream_switch::MetricStreamSwitch;
use std::sync::Arc;
use std::time::Duration;

/// Starts and stops of metric streams within this window share one call per region.
const SWITCH_WINDOW: Duration = Duration::from_millis(200);

/// What every MetricStream reconcile shares.
pub fn shared(aws: Arc<Aws>) -> Arc<MetricStreamSwitch> {
    MetricStreamSwitch::new(aws, SWITCH_WINDOW)
}
