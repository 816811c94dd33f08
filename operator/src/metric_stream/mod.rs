//! Everything about `MetricStream`, a CloudWatch metric stream into a Firehose delivery stream.
//!
//! AWS calls: PutMetricStream (create or update; never changes the running state),
//! StartMetricStreams/StopMetricStreams, GetMetricStream, TagResource/UntagResource, and Firehose
//! DescribeDeliveryStream to report the destination.

pub mod spec;

pub use spec::*;
