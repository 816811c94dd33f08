//! What every reconcile of an Alarm or a CompositeAlarm shares.

use crate::alarm::Alarm;
use crate::aws::Aws;
use crate::aws::alarm_deleter::AlarmDeleter;
use crate::aws::alarm_reader::AlarmReader;
use crate::composite_alarm::CompositeAlarm;
use crate::runtime::watch::Synced;
use kube::runtime::reflector::{ObjectRef, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Reads gather names for this long into one DescribeAlarms (100 names per call).
const READ_WINDOW: Duration = Duration::from_millis(50);
/// A record read ahead by the drift resync is handed to a reconcile within this time, or dropped.
const PREFETCH_TTL: Duration = Duration::from_secs(30);
/// Deletions of metric alarms within this window share one DeleteAlarms (100 names per call).
const DELETE_WINDOW: Duration = Duration::from_millis(100);

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
    alarm_wakeups: mpsc::Sender<ObjectRef<Alarm>>,
    composite_wakeups: mpsc::Sender<ObjectRef<CompositeAlarm>>,
}

impl AlarmFamily {
    /// The family over the two kinds' caches and queues.
    pub fn new(
        aws: Arc<Aws>,
        alarms: KindHandle<Alarm>,
        composites: KindHandle<CompositeAlarm>,
    ) -> Arc<Self> {
        Arc::new(AlarmFamily {
            reader: AlarmReader::new(Arc::clone(&aws), READ_WINDOW, PREFETCH_TTL),
            deleter: AlarmDeleter::new(aws, DELETE_WINDOW),
            alarms: alarms.0,
            alarms_synced: alarms.1,
            alarm_wakeups: alarms.2,
            composites: composites.0,
            composites_synced: composites.1,
            composite_wakeups: composites.2,
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

    /// Reads `objects`' alarms ahead of their drift-resync reconciles, in one DescribeAlarms per
    /// 100 names. Errors are left to the reconciles, which read again.
    pub async fn prefetch(&self, region: &str, names: &[String]) {
        if let Err(e) = self.reader.prefetch(region, names).await {
            tracing::debug!(error = %e, "resync prefetch of alarms failed; reconciles read again");
        }
    }
}
