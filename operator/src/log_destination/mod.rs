//! Everything about `LogDestination`, a CloudWatch Logs destination: where subscription filters
//! of (other) accounts send log events, in front of a Kinesis data stream or a Firehose delivery
//! stream.
//!
//! AWS calls: PutDestination (create or update; tags only on create), PutDestinationPolicy (the
//! access policy), DescribeDestinations (no get-one call: reconciles share one listing through
//! `crate::aws::log_destinations`), DeleteDestination, and CloudWatch Logs'
//! TagResource/UntagResource/ListTagsForResource (`crate::aws::logs_tags`).
//!
//! Subscriptions reach a destination through `LogSubscription.spec.destinationRef`; that side of
//! the reference belongs to the subscriptions. What a destination needs to know of them — so that
//! it is not deleted while one still sends to it, and wakes them when it turns Ready — it asks
//! through [`DestinationSubscribers`].

pub mod controller;
pub mod desired;
pub mod diff;
pub mod import;
pub mod observed;
pub mod policy;
pub mod spec;
pub mod status;

pub use spec::*;

use crate::aws::Aws;
use crate::aws::log_destinations::DestinationReader;
use crate::runtime::watch::Synced;
use std::sync::Arc;
use std::time::Duration;

/// Reconciles within this window share one DescribeDestinations listing.
const READ_WINDOW: Duration = Duration::from_millis(50);
/// A record read ahead by the drift resync is handed to a reconcile within this time, or dropped.
const PREFETCH_TTL: Duration = Duration::from_secs(30);

/// The LogSubscription objects that send to destinations (`spec.destinationRef`), as a
/// destination needs to know them.
pub trait DestinationSubscribers: Send + Sync {
    /// Set once the subscriptions' cache holds its first full list: before that, "no
    /// subscription sends here" proves nothing.
    fn synced(&self) -> &Synced;

    /// `namespace/name` of every LogSubscription in `namespace` whose destinationRef names the
    /// LogDestination `destination`, sorted.
    fn subscribing(&self, namespace: &str, destination: &str) -> Vec<String>;

    /// Reconciles those subscriptions soon: the destination turned Ready, so subscriptions
    /// waiting for its ARN can go ahead.
    fn wake(&self, namespace: &str, destination: &str);
}

/// What every LogDestination reconcile shares.
pub struct LogDestinations {
    /// DescribeDestinations, batched.
    pub destinations: Arc<DestinationReader>,
    /// The subscriptions sending to destinations.
    pub subscribers: Arc<dyn DestinationSubscribers>,
}

/// What every LogDestination reconcile shares.
pub fn shared(aws: Arc<Aws>, subscribers: Arc<dyn DestinationSubscribers>) -> Arc<LogDestinations> {
    Arc::new(LogDestinations {
        destinations: DestinationReader::new(aws, READ_WINDOW, PREFETCH_TTL),
        subscribers,
    })
}
