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

use crate::aws::Aws;
use crate::aws::subscription_filters::SubscriptionFilterReader;
use kube::runtime::reflector::Store;
use std::sync::Arc;
use std::time::Duration;

/// Reconciles of filters on the same log group within this window share one
/// DescribeSubscriptionFilters.
const READ_WINDOW: Duration = Duration::from_millis(20);
/// A log group's filters read ahead by the drift resync are used within this time, or dropped.
const PREFETCH_TTL: Duration = Duration::from_secs(30);

/// What every LogSubscription reconcile shares.
pub struct LogSubscriptions {
    /// DescribeSubscriptionFilters, one shared call per log group.
    pub filters: Arc<SubscriptionFilterReader>,
    /// Every LogSubscription object (the controller's own cache): their status records which
    /// filters they own, since filters carry no tags.
    pub objects: Store<LogSubscription>,
    /// Subscription filters AWS allows per log group in this account.
    pub filter_limit: u32,
}

/// What every LogSubscription reconcile shares.
pub fn shared(
    aws: Arc<Aws>,
    objects: Store<LogSubscription>,
    filter_limit: u32,
) -> Arc<LogSubscriptions> {
    Arc::new(LogSubscriptions {
        filters: SubscriptionFilterReader::new(aws, READ_WINDOW, PREFETCH_TTL),
        objects,
        filter_limit,
    })
}
