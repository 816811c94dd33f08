//! Everything about `LogSubscription`, a CloudWatch Logs subscription filter.
//!
//! AWS calls: PutSubscriptionFilter (create or update, keyed by log group and filter name),
//! DescribeSubscriptionFilters (matches names by prefix), DeleteSubscriptionFilter. Filters have
//! no tags, so ownership lives in status.

pub mod spec;

pub use spec::*;
