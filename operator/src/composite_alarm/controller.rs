//! The CompositeAlarm controller: the kind's part of the reconcile path it shares with metric
//! alarms (`cloudwatch_alarm::apply`, whose steps it follows):
//! - prepare: the rule from the spec as one AST, validated (pure); `alarmRef`s resolved to
//!   CloudWatch names from the cluster's Alarm objects (cache), waiting with
//!   `DependencyNotReady` for any that do not exist yet; the cycle check over every composite
//!   the cluster declares in the region (pure);
//! - desired: the full PutCompositeAlarm request with the rule rendered canonically (pure);
//! - before a create, or a write that changes the rule: its children must exist in CloudWatch
//!   (DescribeAlarms, batched; network), else the write waits with `DependencyNotReady`;
//! - put: PutCompositeAlarm (network);
//! - status: the live state, the resolved rule and children (pure).
//!
//! cleanup: wait while another composite in the cluster names this one; then DeleteAlarms with
//! this composite alone (AWS deletes at most one composite per call) and confirm.

use super::desired::CompositeFields;
use super::desired::{aws_name, desired, put_request, spec_rule, validate_resolved};
use super::graph::describe_cycle;
use super::observed::observed;
use super::rule::{self, ChildRef, ResolvedRule};
use super::spec::{CompositeAlarm, CompositeAlarmStatus};
use super::status::{ResolvedView, status};
use crate::aws::alarm_reader::{AlarmRecord, MAX_NAMES_PER_CALL};
use crate::aws::api::Api;
use crate::aws::{Location, sent_at};
use crate::cloudwatch_alarm::apply::Write;
use crate::cloudwatch_alarm::delete::{AlarmType, cleanup};
use crate::cloudwatch_alarm::dependents::Known;
use crate::cloudwatch_alarm::live::{self, LiveState};
use crate::cloudwatch_alarm::spec::AlarmState;
use crate::cloudwatch_alarm::{AlarmFamily, AlarmKind, dependents};
use crate::common_fields::Tags;
use crate::error::{Error, Result};
use crate::preview::Preview;
use crate::runtime::preview::Plannable;
use crate::runtime::{Applied, Failed, ManagedKind, Reconcile};
use aws_sdk_cloudwatch::types::CompositeAlarm as CompositeRecord;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

impl ManagedKind for CompositeAlarm {
    const KIND: &'static str = "CompositeAlarm";
    type Status = CompositeAlarmStatus;
    type Shared = AlarmFamily;
    /// DescribeAlarms reads 100 alarms per call.
    const RESYNC_CHUNK: usize = MAX_NAMES_PER_CALL;

    crate::common_field_accessors!(CompositeAlarmStatus);

    fn aws_name(&self) -> String {
        aws_name(&self.spec, &self.name_any())
    }

    fn describe(&self) -> String {
        format!("composite alarm {:?}", self.aws_name())
    }

    async fn apply(
        &self,
        r: &Reconcile<'_, Self>,
    ) -> Result<Applied<CompositeAlarmStatus>, Failed<CompositeAlarmStatus>> {
        Ok(crate::cloudwatch_alarm::apply(self, r).await?)
    }

    async fn cleanup(&self, r: &Reconcile<'_, Self>) -> Result<()> {
        let parents: Vec<_> =
            dependents::composites_naming(r.shared, &r.name, Known::at(&r.location), None)
                .into_iter()
                .filter(|p| !(p.name == self.name_any() && p.namespace == self.namespace()))
                .collect();
        cleanup(r, &parents).await
    }

    async fn prefetch(family: &AlarmFamily, location: &Location, objects: &[Arc<Self>]) {
        let names: Vec<String> = objects.iter().map(|c| c.aws_name()).collect();
        family.prefetch(location, &names).await;
    }

    fn became_ready(&self, family: &AlarmFamily) {
        // Composites whose rule names this one may be waiting for it to exist.
        let at = Known::of(self.status.as_ref().map(|s| &s.common), &self.spec.common);
        for parent in dependents::composites_naming(family, &self.aws_name(), at, None) {
            family.wake_composite(parent);
        }
    }

    fn deleted(&self, family: &AlarmFamily) {
        // The alarms and composites this composite named may be waiting to be deleted. Only
        // those are woken: waking every deleting alarm of the namespace made each composite's
        // deletion reconcile (and rewrite the status of) the whole fleet.
        for alarm in family.alarms.state() {
            let object = (alarm.namespace().unwrap_or_default(), alarm.name_any());
            if alarm.metadata.deletion_timestamp.is_some()
                && dependents::names(self, &alarm.aws_name(), Some((&object.0, &object.1)))
            {
                family.wake_alarm(ObjectRef::from_obj(&*alarm));
            }
        }
        for composite in family.composites.state() {
            if composite.metadata.deletion_timestamp.is_some()
                && dependents::names(self, &composite.aws_name(), None)
            {
                family.wake_composite(ObjectRef::from_obj(&*composite));
            }
        }
    }
}

/// The rule with its `alarmRef`s resolved, and what the status reports of it.
pub struct Resolved {
    rule: ResolvedRule,
    view: ResolvedView,
}

impl Plannable for CompositeAlarm {
    async fn preview(&self, r: &Reconcile<'_, Self>) -> Result<Preview> {
        crate::cloudwatch_alarm::apply::preview(self, r).await
    }
}

impl AlarmKind for CompositeAlarm {
    type Record = CompositeRecord;
    type Fields = CompositeFields;
    type Prepared = Resolved;
    const PUT: &'static str = "PutCompositeAlarm";
    const READ_AFTER_CREATE: bool = true;
    const TYPE: AlarmType = AlarmType::Composite;

    fn user_tags(&self) -> &Tags {
        &self.spec.tags
    }

    fn own(record: AlarmRecord) -> Result<CompositeRecord, AlarmRecord> {
        match record {
            AlarmRecord::Composite(c) => Ok(*c),
            other => Err(other),
        }
    }

    async fn prepare(&self, r: &Reconcile<'_, Self>) -> Result<Resolved> {
        let family = r.shared;
        let namespace = self.namespace().unwrap_or_default();
        let rule = spec_rule(&self.spec)?;
        // Right after a start, an Alarm missing from a cache still being filled is not missing.
        family.alarms_synced.wait().await;
        let objects: BTreeSet<String> = rule::children(&rule)
            .into_iter()
            .filter_map(|child| match child {
                ChildRef::Object(o) => Some(o),
                ChildRef::Name(_) => None,
            })
            .collect();
        let elsewhere =
            dependents::alarm_objects_elsewhere(family, &namespace, &objects, &r.location);
        if !elsewhere.is_empty() {
            return Err(Error::invalid_spec(format!(
                "the rule names Alarm {} of another AWS account or region: {} lives in {}, and a \
                 composite alarm can only name alarms of its own account and region",
                elsewhere.join(", "),
                r.what,
                r.location
            )));
        }
        let resolved = rule
            .resolve(|object| dependents::alarm_object_name(family, &namespace, object))
            .map_err(|missing| {
                Error::dependency(format!(
                    "waiting for Alarm {} in namespace {namespace}",
                    missing
                        .objects
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        validate_resolved(&resolved)?;
        let children = rule::child_names(&resolved);
        if let Some(cycle) =
            dependents::graph(family, &r.location, &r.name, &children).cycle_through(&r.name)
        {
            return Err(Error::invalid_spec(format!(
                "the rule makes a cycle of composite alarms: {}. CloudWatch stops evaluating \
                 alarms in a cycle and refuses to delete them; remove one of the references",
                describe_cycle(&cycle)
            )));
        }
        Ok(Resolved {
            view: ResolvedView {
                rule: Some(resolved.render()),
                children,
            },
            rule: resolved,
        })
    }

    fn desired(&self, prepared: &Resolved) -> CompositeFields {
        desired(&self.spec, &self.name_any(), &prepared.rule).fields
    }

    fn observed(record: &CompositeRecord) -> CompositeFields {
        observed(record).fields
    }

    fn live(record: &CompositeRecord) -> LiveState {
        live::of_composite_alarm(record)
    }

    fn arn(record: &CompositeRecord) -> Option<&str> {
        record.alarm_arn.as_deref()
    }

    fn state_value(status: &CompositeAlarmStatus) -> Option<AlarmState> {
        status.state_value
    }

    /// Every child must exist in CloudWatch before a rule naming it is written
    /// (PutCompositeAlarm refuses unknown children). A child this process has just created is
    /// known to exist; the others are read, batched, so checking 100 children is one call.
    async fn missing_children(
        r: &Reconcile<'_, Self>,
        prepared: &Resolved,
        write: Write<'_>,
    ) -> Result<Vec<String>> {
        let writes_rule = match write {
            Write::Create => true,
            Write::Update(fields) => fields.iter().any(|f| f == "alarmRule"),
        };
        if !writes_rule {
            return Ok(Vec::new());
        }
        let children = &prepared.view.children;
        let reads = futures::future::join_all(
            children
                .iter()
                .map(|c| r.shared.reader.exists(&r.location, c)),
        )
        .await;
        let mut missing = Vec::new();
        for (child, read) in children.iter().zip(reads) {
            if !read? {
                missing.push(child.clone());
            }
        }
        Ok(missing)
    }

    async fn put(
        r: &Reconcile<'_, Self>,
        fields: &CompositeFields,
        tags: Option<&BTreeMap<String, String>>,
    ) -> Result<Timestamp> {
        let client = &r.ctx.aws.clients(&r.location).cloudwatch;
        let mut sent = None;
        let request = put_request(client.put_composite_alarm(), &r.name, fields, tags);
        r.ctx
            .aws
            .call(
                &r.location,
                Api::PutCompositeAlarm,
                sent_at(request.send(), &mut sent),
            )
            .await?;
        Ok(sent.unwrap_or_else(Timestamp::now))
    }

    fn alarm_status(
        r: &Reconcile<'_, Self>,
        record: Option<&CompositeRecord>,
        live: &LiveState,
        prepared: &Resolved,
    ) -> CompositeAlarmStatus {
        status(&r.name, record, live, &prepared.view, r.previous())
    }
}
