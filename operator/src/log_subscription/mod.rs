//! Everything about `LogSubscription`, a CloudWatch Logs subscription filter.
//!
//! AWS calls: PutSubscriptionFilter (create or update, keyed by log group and filter name),
//! DescribeSubscriptionFilters (matches names by prefix), DeleteSubscriptionFilter. Filters have
//! no tags, so ownership lives in status.

pub mod controller;
pub mod desired;
pub mod diff;
pub mod limit;
pub mod observed;
pub mod ownership;
pub mod spec;
pub mod status;
pub mod test_message;

pub use spec::*;
