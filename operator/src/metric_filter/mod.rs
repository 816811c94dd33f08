//! Everything about `MetricFilter`, a CloudWatch Logs metric filter.
//!
//! AWS calls: TestMetricFilter (spec.tests, whenever the spec changes), PutMetricFilter (create or
//! update, keyed by log group and filter name), DescribeMetricFilters (one listing per log group,
//! shared by the filters on it), DeleteMetricFilter. Metric filters have no tags, so ownership
//! lives in status. The reconcile is the path every filter kind shares ([`crate::log_filter`]).
//!
//! Alarms watch a filter's metric through `Alarm.spec.metricFilterRef`; the alarm side of that
//! reference belongs to the alarms (`cloudwatch_alarm`). What a filter needs to know of the
//! alarms watching it — so that it is not deleted while one does, and wakes them when it turns
//! Ready — it asks through [`MetricWatchers`].

pub mod controller;
pub mod desired;
pub mod expectations;
pub mod import;
pub mod observed;
pub mod spec;

pub use spec::*;

use crate::aws::Aws;
use crate::aws::metric_filters::MetricFilterReader;
use crate::runtime::watch::Synced;
use kube::runtime::reflector::Store;
use std::sync::Arc;
use std::time::Duration;

/// Reconciles of filters on the same log group within this window share one
/// DescribeMetricFilters.
const READ_WINDOW: Duration = Duration::from_millis(20);
/// A log group's filters read ahead by the drift resync are used within this time, or dropped.
const PREFETCH_TTL: Duration = Duration::from_secs(30);

/// The Alarm objects that watch metric filters' metrics (`spec.metricFilterRef`), as a metric
/// filter needs to know them.
pub trait MetricWatchers: Send + Sync {
    /// Set once the alarms' cache holds its first full list: before that, "no alarm watches
    /// this filter" proves nothing.
    fn synced(&self) -> &Synced;

    /// `namespace/name` of every Alarm in `namespace` whose metricFilterRef names the
    /// MetricFilter `filter` and that stays in AWS for now, sorted: all but those being deleted
    /// and not held by a composite that stays (`cloudwatch_alarm::dependents::alarm_leaving`).
    fn holding(&self, namespace: &str, filter: &str) -> Vec<String>;

    /// Reconciles those alarms soon: the filter turned Ready, so alarms waiting for it can go
    /// ahead.
    fn wake(&self, namespace: &str, filter: &str);
}

/// What every MetricFilter reconcile shares.
pub struct MetricFilters {
    /// DescribeMetricFilters, one shared listing per log group.
    pub filters: Arc<MetricFilterReader>,
    /// Every MetricFilter object (the controller's own cache): their status records which
    /// filters they own, since filters carry no tags.
    pub objects: Store<MetricFilter>,
    /// The alarms watching filters' metrics.
    pub watchers: Arc<dyn MetricWatchers>,
}

/// What every MetricFilter reconcile shares.
pub fn shared(
    aws: Arc<Aws>,
    objects: Store<MetricFilter>,
    watchers: Arc<dyn MetricWatchers>,
) -> Arc<MetricFilters> {
    let filters = MetricFilterReader::new(aws, READ_WINDOW, PREFETCH_TTL);
    filters.expect(crate::log_filter::pending_on(objects.clone()));
    Arc::new(MetricFilters {
        filters,
        objects,
        watchers,
    })
}
