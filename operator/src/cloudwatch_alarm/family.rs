//! What every reconcile of an Alarm or a CompositeAlarm shares.

use crate::alarm::Alarm;
use crate::aws::Location;
use crate::aws::alarm_deleter::AlarmDeleter;
use crate::aws::alarm_reader::{AlarmReader, ExpectedAlarm};
use crate::aws::batch::Window;
use crate::common_fields::ManagementPolicy;
use crate::composite_alarm::CompositeAlarm;
use crate::metric_filter::MetricFilter;
use crate::runtime::context::Context;
use crate::runtime::reconcile::resolve_location;
use crate::runtime::released::Released;
use crate::runtime::watch::Synced;
use crate::runtime::{ManagedKind, awaits_reconcile};
use kube::runtime::reflector::{ObjectRef, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Reads gather names for this long into one DescribeAlarms (100 names per call).
const READ_WINDOW: Duration = Duration::from_millis(50);
/// A composite is read once right after its create (CloudWatch evaluates its rule at once, and
/// its state goes into status). Creates come at PutCompositeAlarm's pace (3 per second at the
/// default quota), so these reads gather while creates keep coming — until a second passes
/// with none, and at most two seconds — instead of one DescribeAlarms each.
const AFTER_CREATE_WINDOW: Window = Window {
    quiet: Duration::from_secs(1),
    longest: Duration::from_secs(2),
};
/// A record read ahead (by the drift resync, or to fill a call's room) is handed to a reconcile
/// within this time, or dropped.
const PREFETCH_TTL: Duration = Duration::from_secs(30);
/// A reading that an alarm does not exist (and what this process's own write made true) is kept
/// this long: the one period the drift resync also lets pass between two reads of an object. It
/// is what lets a fleet created under PutMetricAlarm's quota (3 per second: a thousand alarms
/// take six minutes) be read a hundred names per call before its creates rather than once per
/// create; a write by this process to the alarm replaces it at once.
const ABSENT_TTL: Duration = Duration::from_secs(600);
/// Deletions of metric alarms share one DeleteAlarms (100 names per call) while they keep
/// arriving: a batch that is not full goes out once no deletion has joined it for `quiet`, or
/// `longest` after it opened (or at its rate-limit slot, if later). The API server marks the
/// objects of a collection deletion over seconds (a thousand in ten to twenty on two busy cores),
/// a few milliseconds apart but with pauses of several hundred when it is busy. So the number of
/// calls is about the larger of N / 100 and the collection's duration over `longest`, plus one
/// per pause longer than `quiet`: a 200 or 300 ms gap closed batches half full (22 calls for a
/// thousand), as does any window shorter than the time a hundred deletions take to arrive. A
/// lone deletion, and the last of a collection, wait `quiet`.
const DELETE_WINDOW: Window = Window {
    quiet: Duration::from_secs(1),
    longest: Duration::from_secs(2),
};

/// One kind's cache, whether it holds its first full list, and its controller's queue.
pub type KindHandle<K> = (Store<K>, Synced, mpsc::Sender<ObjectRef<K>>);

/// Shared by the Alarm and CompositeAlarm controllers.
pub struct AlarmFamily {
    /// DescribeAlarms, batched.
    pub reader: Arc<AlarmReader>,
    /// DeleteAlarms, batched for metric alarms.
    pub deleter: Arc<AlarmDeleter>,
    /// Alarm objects, for composites' `alarmRef`s.
    pub alarms: Store<Alarm>,
    pub alarms_synced: Synced,
    /// CompositeAlarm objects, for the composite graph.
    pub composites: Store<CompositeAlarm>,
    pub composites_synced: Synced,
    /// MetricFilter objects, for alarms' `metricFilterRef`s.
    pub metric_filters: Store<MetricFilter>,
    pub metric_filters_synced: Synced,
    alarm_wakeups: mpsc::Sender<ObjectRef<Alarm>>,
    composite_wakeups: mpsc::Sender<ObjectRef<CompositeAlarm>>,
    metric_filter_wakeups: mpsc::Sender<ObjectRef<MetricFilter>>,
    /// Objects whose cleanup finished: an alarm or composite among them names nothing any more,
    /// whatever the caches still show of it.
    pub released: Arc<Released>,
}

impl AlarmFamily {
    /// The family over the two kinds' caches and queues, and those of the metric filters alarms
    /// watch; `ctx` tells where each object lives.
    pub fn new(
        ctx: Arc<Context>,
        alarms: KindHandle<Alarm>,
        composites: KindHandle<CompositeAlarm>,
        metric_filters: KindHandle<MetricFilter>,
    ) -> Arc<Self> {
        let aws = Arc::clone(&ctx.aws);
        let released = Arc::clone(&ctx.released);
        let reader = AlarmReader::new(
            Arc::clone(&aws),
            READ_WINDOW,
            AFTER_CREATE_WINDOW,
            PREFETCH_TTL,
            ABSENT_TTL,
        );
        let (alarm_store, composite_store) = (alarms.0.clone(), composites.0.clone());
        reader.expect(Box::new(move |location| {
            let mut names = expected(&alarm_store, &ctx, location);
            names.extend(expected(&composite_store, &ctx, location));
            names
        }));
        Arc::new(AlarmFamily {
            reader,
            deleter: AlarmDeleter::new(aws, DELETE_WINDOW),
            alarms: alarms.0,
            alarms_synced: alarms.1,
            alarm_wakeups: alarms.2,
            composites: composites.0,
            composites_synced: composites.1,
            composite_wakeups: composites.2,
            metric_filters: metric_filters.0,
            metric_filters_synced: metric_filters.1,
            metric_filter_wakeups: metric_filters.2,
            released,
        })
    }

    /// Reconciles the Alarm `obj` soon. Best effort: when the queue is full the object's own
    /// backoff brings it back anyway.
    pub fn wake_alarm(&self, obj: ObjectRef<Alarm>) {
        let _ = self.alarm_wakeups.try_send(obj);
    }

    /// Reconciles the CompositeAlarm `obj` soon (best effort, as [`AlarmFamily::wake_alarm`]).
    pub fn wake_composite(&self, obj: ObjectRef<CompositeAlarm>) {
        let _ = self.composite_wakeups.try_send(obj);
    }

    /// Reconciles the MetricFilter `obj` soon (best effort, as [`AlarmFamily::wake_alarm`]).
    pub fn wake_metric_filter(&self, obj: ObjectRef<MetricFilter>) {
        let _ = self.metric_filter_wakeups.try_send(obj);
    }

    /// Reads `objects`' alarms ahead of their drift-resync reconciles, in one DescribeAlarms per
    /// 100 names. Errors are left to the reconciles, which read again.
    pub async fn prefetch(&self, location: &Location, names: &[String]) {
        if let Err(e) = self.reader.prefetch(location, names).await {
            tracing::debug!(error = %e, "resync prefetch of alarms failed; reconciles read again");
        }
    }
}

/// The CloudWatch names of `store`'s objects at `location` that are about to be reconciled for
/// their current spec (new, or changed since their status was written), except those being
/// deleted. Only objects that live there — or will, their namespace being allowed there — are
/// named: a call in one account never reads for an object of another.
fn expected<K: ManagedKind>(
    store: &Store<K>,
    ctx: &Context,
    location: &Location,
) -> Vec<ExpectedAlarm> {
    store
        .state()
        .iter()
        .filter(|o| {
            awaits_reconcile(&***o)
                && resolve_location(&***o, ctx).is_ok_and(|(at, _)| at == *location)
        })
        .map(|o| ExpectedAlarm {
            name: o.aws_name(),
            creates: o.common_spec().management_policy != ManagementPolicy::ObserveOnly,
        })
        .collect()
}
