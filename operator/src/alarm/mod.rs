//! Everything about `Alarm`, a CloudWatch metric alarm: one metric, metric math, an anomaly
//! detection band or a PromQL query, compared against a condition.
//!
//! AWS calls: PutMetricAlarm (a full replace), DescribeAlarms (100 names per call),
//! TagResource/UntagResource/ListTagsForResource (PutMetricAlarm ignores tags on update),
//! DeleteAlarms.

pub mod controller;
pub mod desired;
pub mod diff;
pub mod import;
pub mod observed;
pub mod spec;
pub mod status;

pub use spec::*;
