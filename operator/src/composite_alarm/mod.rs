//! Everything about `CompositeAlarm`, a CloudWatch alarm whose state is a rule over other alarms.
//!
//! AWS calls: PutCompositeAlarm (a full replace), DescribeAlarms with AlarmTypes=CompositeAlarm,
//! TagResource/UntagResource/ListTagsForResource, DeleteAlarms (one composite per call).

pub mod controller;
pub mod desired;
pub mod graph;
pub mod import;
pub mod observed;
pub mod rule;
pub mod spec;
pub mod status;

pub use spec::*;
