//! The Alarm controller: the kind's part of the reconcile path it shares with composite alarms
//! (`cloudwatch_alarm::apply`, whose steps it follows):
//! - prepare: a metricFilterRef resolved to the metric the MetricFilter publishes (cache),
//!   waiting with `DependencyNotReady` while the filter is missing or not Ready;
//! - desired: the spec as the exact PutMetricAlarm request, server defaults filled (pure);
//! - observed: DescribeAlarms' metric alarm in the same form (pure);
//! - put: PutMetricAlarm (network);
//! - status: the live state (pure).
//!
//! cleanup: wait while a CompositeAlarm in the cluster still names this alarm; then DeleteAlarms,
//! only for an alarm this object owns, and a describe to confirm it is gone. A MetricFilter this
//! alarm watched waits for it, and is woken once it is gone.

use super::desired::{desired, put_request, with_filter_metric};
use super::observed::observed;
use super::spec::{Alarm, AlarmSpec, AlarmStatus};
use super::status::status;
use crate::aws::alarm_reader::{AlarmRecord, MAX_NAMES_PER_CALL};
use crate::aws::api::Api;
use crate::aws::{Location, sent_at};
use crate::cloudwatch_alarm::apply::Write;
use crate::cloudwatch_alarm::delete::{AlarmType, cleanup};
use crate::cloudwatch_alarm::live::{self, LiveState};
use crate::cloudwatch_alarm::metric_filter_ref::{self, FilterMetric};
use crate::cloudwatch_alarm::spec::AlarmState;
use crate::cloudwatch_alarm::{AlarmFamily, AlarmKind, dependents};
use crate::common_fields::Tags;
use crate::error::Result;
use crate::preview::Preview;
use crate::runtime::preview::Plannable;
use crate::runtime::{Applied, Failed, ManagedKind, Reconcile};
use aws_sdk_cloudwatch::types::MetricAlarm;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;
use std::collections::BTreeMap;
use std::sync::Arc;

impl ManagedKind for Alarm {
    const KIND: &'static str = "Alarm";
    type Status = AlarmStatus;
    type Shared = AlarmFamily;
    /// DescribeAlarms reads 100 alarms per call.
    const RESYNC_CHUNK: usize = MAX_NAMES_PER_CALL;

    crate::common_field_accessors!(AlarmStatus);

    fn aws_name(&self) -> String {
        super::desired::aws_name(&self.spec, &self.name_any())
    }

    fn describe(&self) -> String {
        format!("alarm {:?}", self.aws_name())
    }

    async fn apply(
        &self,
        r: &Reconcile<'_, Self>,
    ) -> Result<Applied<AlarmStatus>, Failed<AlarmStatus>> {
        Ok(crate::cloudwatch_alarm::apply(self, r).await?)
    }

    async fn cleanup(&self, r: &Reconcile<'_, Self>) -> Result<()> {
        // Before the composite cache holds its first list, "no composite names it" proves nothing.
        r.shared.composites_synced.wait().await;
        // The MetricFilter this alarm watches may be waiting to be deleted, and this alarm may
        // no longer hold it back (it is leaving too).
        self.wake_metric_filter(r.shared);
        let parents = dependents::composites_naming_alarm(r.shared, self);
        cleanup(r, &parents).await
    }

    async fn prefetch(family: &AlarmFamily, location: &Location, objects: &[Arc<Self>]) {
        let names: Vec<String> = objects.iter().map(|a| a.aws_name()).collect();
        family.prefetch(location, &names).await;
    }

    fn became_ready(&self, family: &AlarmFamily) {
        // Composite alarms waiting for this alarm to exist can go ahead now.
        for composite in dependents::composites_naming_alarm(family, self) {
            family.wake_composite(composite);
        }
    }

    fn deleted(&self, family: &AlarmFamily) {
        // The MetricFilter this alarm watched may be waiting to be deleted.
        self.wake_metric_filter(family);
    }
}

impl Alarm {
    /// Reconciles the MetricFilter this alarm watches, if it names one, soon.
    fn wake_metric_filter(&self, family: &AlarmFamily) {
        if let Some(reference) = &self.spec.metric_filter_ref {
            let namespace = self.namespace().unwrap_or_default();
            family.wake_metric_filter(ObjectRef::new(&reference.name).within(&namespace));
        }
    }
}

impl Plannable for Alarm {
    async fn preview(&self, r: &Reconcile<'_, Self>) -> Result<Preview> {
        crate::cloudwatch_alarm::apply::preview(self, r).await
    }
}

impl AlarmKind for Alarm {
    type Record = MetricAlarm;
    type Fields = AlarmSpec;
    /// The metric of the MetricFilter the alarm watches, if it names one.
    type Prepared = Option<FilterMetric>;
    const PUT: &'static str = "PutMetricAlarm";
    const READ_AFTER_CREATE: bool = false;
    const TYPE: AlarmType = AlarmType::Metric;

    fn user_tags(&self) -> &Tags {
        &self.spec.tags
    }

    fn own(record: AlarmRecord) -> Result<MetricAlarm, AlarmRecord> {
        match record {
            AlarmRecord::Metric(m) => Ok(*m),
            other => Err(other),
        }
    }

    async fn prepare(&self, r: &Reconcile<'_, Self>) -> Result<Option<FilterMetric>> {
        metric_filter_ref::resolve_for(r.shared, self, &r.location).await
    }

    fn desired(&self, metric: &Option<FilterMetric>) -> AlarmSpec {
        let spec = with_filter_metric(&self.spec, metric.as_ref());
        desired(&spec, &self.name_any()).fields
    }

    fn observed(record: &MetricAlarm) -> AlarmSpec {
        observed(record).fields
    }

    fn live(record: &MetricAlarm) -> LiveState {
        live::of_metric_alarm(record)
    }

    fn arn(record: &MetricAlarm) -> Option<&str> {
        record.alarm_arn.as_deref()
    }

    fn state_value(status: &AlarmStatus) -> Option<AlarmState> {
        status.state_value
    }

    async fn missing_children(
        _r: &Reconcile<'_, Self>,
        _: &Option<FilterMetric>,
        _write: Write<'_>,
    ) -> Result<Vec<String>> {
        Ok(Vec::new())
    }

    async fn put(
        r: &Reconcile<'_, Self>,
        fields: &AlarmSpec,
        tags: Option<&BTreeMap<String, String>>,
    ) -> Result<Timestamp> {
        let client = &r.ctx.aws.clients(&r.location).cloudwatch;
        let mut sent = None;
        let request = put_request(client.put_metric_alarm(), &r.name, fields, tags);
        r.ctx
            .aws
            .call(
                &r.location,
                Api::PutMetricAlarm,
                sent_at(request.send(), &mut sent),
            )
            .await?;
        Ok(sent.unwrap_or_else(Timestamp::now))
    }

    fn alarm_status(
        r: &Reconcile<'_, Self>,
        _record: Option<&MetricAlarm>,
        live: &LiveState,
        _: &Option<FilterMetric>,
    ) -> AlarmStatus {
        status(&r.name, live, r.previous())
    }
}
