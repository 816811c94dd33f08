//! Everything about `LogSubscription`, a CloudWatch Logs subscription filter.
//!
//! AWS calls: PutSubscriptionFilter (create or update, keyed by log group and filter name),
//! DescribeSubscriptionFilters (matches names by prefix), DeleteSubscriptionFilter. Filters have
//! no tags, so ownership lives in status. The reconcile is the path every filter kind shares
//! ([`crate::log_filter`]). A subscription may send to a LogDestination of its
//! namespace (`spec.destinationRef`), resolved to its ARN in [`destination_ref`].

pub mod controller;
pub mod desired;
pub mod destination_ref;
pub mod import;
pub mod limit;
pub mod observed;
pub mod spec;
pub mod test_message;

pub use spec::*;

use crate::aws::Aws;
use crate::aws::subscription_filters::SubscriptionFilterReader;
use crate::log_destination::LogDestination;
use crate::runtime::released::Released;
use crate::runtime::watch::Synced;
use kube::runtime::reflector::{ObjectRef, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

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
    pub objects_synced: Synced,
    /// Subscription filters AWS allows per log group in this account.
    pub filter_limit: u32,
    /// LogDestination objects, for `destinationRef`s.
    pub destinations: Store<LogDestination>,
    pub destinations_synced: Synced,
    wakeups: mpsc::Sender<ObjectRef<LogSubscription>>,
    destination_wakeups: mpsc::Sender<ObjectRef<LogDestination>>,
    /// Objects whose cleanup finished: a subscription among them sends nowhere any more,
    /// whatever the cache still shows of it.
    pub released: Arc<Released>,
}

/// A kind's cache, whether it holds its first full list, and its controller's queue.
pub type KindHandle<K> = (Store<K>, Synced, mpsc::Sender<ObjectRef<K>>);

/// What every LogSubscription reconcile shares.
pub fn shared(
    aws: Arc<Aws>,
    objects: KindHandle<LogSubscription>,
    destinations: KindHandle<LogDestination>,
    filter_limit: u32,
    released: Arc<Released>,
) -> Arc<LogSubscriptions> {
    let filters = SubscriptionFilterReader::new(aws, READ_WINDOW, PREFETCH_TTL);
    filters.expect(crate::log_filter::pending_on(objects.0.clone()));
    Arc::new(LogSubscriptions {
        filters,
        objects: objects.0,
        objects_synced: objects.1,
        filter_limit,
        destinations: destinations.0,
        destinations_synced: destinations.1,
        wakeups: objects.2,
        destination_wakeups: destinations.2,
        released,
    })
}

impl LogSubscriptions {
    /// Reconciles the LogSubscription `obj` soon. Best effort: when the queue is full the
    /// object's own backoff brings it back anyway.
    pub fn wake(&self, obj: ObjectRef<LogSubscription>) {
        let _ = self.wakeups.try_send(obj);
    }

    /// Reconciles the LogDestination `obj` soon (best effort, as [`LogSubscriptions::wake`]).
    pub fn wake_destination(&self, obj: ObjectRef<LogDestination>) {
        let _ = self.destination_wakeups.try_send(obj);
    }
}
