//! The Alarm controller: the thin shell that runs the pure steps against AWS.
//!
//! apply:
//! 1. desired configuration and tags from the spec (pure);
//! 2. DescribeAlarms through the batched reader (network), and ListTagsForResource when
//!    ownership is unconfirmed, the spec changed, or the tag resync is due (network);
//! 3. ownership decision (pure), observed configuration (pure), plan (pure);
//! 4. PutMetricAlarm / TagResource / UntagResource as planned (network) — nothing when the plan is
//!    empty;
//! 5. status from the observation (pure); the runtime writes it only if it changed.
//!
//! cleanup: wait while a CompositeAlarm in the cluster still names this alarm; then DeleteAlarms,
//! only for an alarm this object owns, and a describe to confirm it is gone.

use super::desired::{aws_name, desired, put_request};
use super::diff::{Change, plan};
use super::lifecycle;
use super::observed::{LiveState, live_state, observed};
use super::spec::{Alarm, AlarmStatus};
use super::status::{just_created, state_change, status};
use crate::aws::alarm_reader::{AlarmRecord, MAX_NAMES_PER_CALL};
use crate::aws::api::Api;
use crate::aws::cloudwatch_tags;
use crate::common_fields::ManagementPolicy;
use crate::composite_alarm::dependents;
use crate::conditions::Verdict;
use crate::error::{Error, Result};
use crate::field_diff::changed_fields;
use crate::ownership;
use crate::reason::Reason;
use crate::runtime::context::Context;
use crate::runtime::lifecycle::{change_notice, observed_message, ownership_confirmed};
use crate::runtime::reconcile::object_key;
use crate::runtime::{Applied, ManagedKind, Notice};
use crate::tags::desired_tags;
use kube::ResourceExt;
use std::sync::Arc;

impl ManagedKind for Alarm {
    const KIND: &'static str = "Alarm";
    type Status = AlarmStatus;
    /// DescribeAlarms reads 100 alarms per call.
    const RESYNC_CHUNK: usize = MAX_NAMES_PER_CALL;

    crate::common_field_accessors!(AlarmStatus);

    async fn apply(&self, ctx: &Context, region: &str) -> Result<Applied<AlarmStatus>> {
        apply(self, ctx, region).await
    }

    async fn cleanup(&self, ctx: &Context, region: &str) -> Result<()> {
        cleanup(self, ctx, region).await
    }

    async fn prefetch(ctx: &Context, region: &str, objects: &[Arc<Self>]) {
        let names: Vec<String> = objects
            .iter()
            .map(|a| aws_name(&a.spec, &a.name_any()))
            .collect();
        if let Err(e) = ctx.alarm_reader.prefetch(region, &names).await {
            tracing::debug!(error = %e, "resync prefetch of alarms failed; reconciles read again");
        }
    }

    fn became_ready(&self, ctx: &Context) {
        // Composite alarms waiting for this alarm to exist can go ahead now.
        for composite in dependents::composites_naming_alarm(ctx, self) {
            ctx.wake_composite(composite);
        }
    }
}

async fn apply(alarm: &Alarm, ctx: &Context, region: &str) -> Result<Applied<AlarmStatus>> {
    let key = format!("Alarm/{}", object_key(alarm));
    let desired = desired(&alarm.spec, &alarm.name_any());
    let name = desired.name.as_str();
    let what = format!("alarm {name:?}");
    let owner = ctx.owner(alarm);
    let want_tags = desired_tags(&alarm.spec.tags, &owner);
    let observe_only = alarm.spec.common.management_policy == ManagementPolicy::ObserveOnly;
    let previous = alarm.status.as_ref();
    let confirmed = ownership_confirmed(previous.map(|p| &p.common), name);
    let client = &ctx.aws.clients(region).cloudwatch;

    let existing = match ctx.alarm_reader.describe(region, name).await? {
        Some(AlarmRecord::Metric(m)) => m,
        Some(AlarmRecord::Composite(_)) => {
            return Err(Error::new(
                Reason::AlreadyExistsUnowned,
                format!(
                    "a composite alarm named {name:?} already exists in {region}; an Alarm manages \
                     metric alarms. Choose another spec.alarmName"
                ),
            ));
        }
        None if observe_only => {
            return Ok(Applied::new(
                status(name, &LiveState::default(), previous),
                Verdict::waiting(
                    Reason::NotFound,
                    format!("{what} does not exist in {region}"),
                ),
            ));
        }
        None => {
            let request = put_request(client.put_metric_alarm(), &desired, Some(&want_tags));
            ctx.aws
                .call(region, Api::PutMetricAlarm, request.send())
                .await?;
            ctx.tag_reads.due(&key, true);
            let live = match ctx.alarm_reader.describe_after_write(region, name).await {
                Ok(Some(AlarmRecord::Metric(m))) => live_state(&m),
                _ => just_created(),
            };
            let notice = if confirmed {
                Notice::warning(
                    "Recreated",
                    "PutMetricAlarm",
                    format!("{what} was deleted outside the operator and has been created again"),
                )
            } else {
                Notice::normal(
                    "Created",
                    "PutMetricAlarm",
                    format!("created {what} in {region}"),
                )
            };
            return Ok(Applied::new(
                status(name, &live, previous),
                // The same message as a later reconcile that finds nothing to do, so that one
                // does not rewrite the status; the Created event records the creation.
                Verdict::ready(Reason::Available, format!("{what} matches the spec")),
            )
            .notice(notice));
        }
    };

    let observed_config = observed(&existing);
    let live = live_state(&existing);
    let mut notices = Vec::new();
    if let Some(note) = state_change(previous.and_then(|p| p.state_value), &live) {
        notices.push(Notice::normal("StateChanged", "DescribeAlarms", note));
    }
    if observe_only {
        let differences = changed_fields(&desired.fields, &observed_config.fields);
        let verdict = Verdict::ready(Reason::Observed, observed_message(&what, &differences));
        return Ok(Applied {
            status: status(name, &live, previous),
            verdict,
            notices,
        });
    }

    let spec_changed =
        previous.and_then(|p| p.common.observed_generation) != alarm.metadata.generation;
    let arn = existing.alarm_arn.clone().unwrap_or_default();
    let observed_tags =
        lifecycle::tags_if_due(ctx, &key, !confirmed || spec_changed, region, &arn).await?;
    if let Some(tags) = &observed_tags
        && let Some(note) = ownership::gate(tags, &owner, alarm.spec.common.adoption, &what)?
    {
        notices.push(Notice::normal("Adopted", "TagResource", note));
    }

    let drift = confirmed && !spec_changed;
    let plan = plan(
        &desired,
        Some(&observed_config),
        &want_tags,
        observed_tags.as_ref(),
    );
    if let Some(Change::Update { fields }) = &plan.change {
        let request = put_request(client.put_metric_alarm(), &desired, None);
        ctx.aws
            .call(region, Api::PutMetricAlarm, request.send())
            .await?;
        ctx.alarm_reader.wrote(region, name);
        notices.push(change_notice(drift, "PutMetricAlarm", fields));
    }
    if !plan.tags.is_empty() {
        cloudwatch_tags::apply(&ctx.aws, region, &arn, &plan.tags).await?;
        let fields = plan.tags.drift_fields();
        if drift && !fields.is_empty() {
            notices.push(change_notice(true, "TagResource", &fields));
        }
    }
    let verdict = Verdict::ready(Reason::Available, format!("{what} matches the spec"));
    Ok(Applied {
        status: status(name, &live, previous),
        verdict,
        notices,
    })
}

async fn cleanup(alarm: &Alarm, ctx: &Context, region: &str) -> Result<()> {
    let name = aws_name(&alarm.spec, &alarm.name_any());
    // Before the composite cache holds its first list, "no composite names it" proves nothing.
    ctx.composites_synced.wait().await;
    let parents = dependents::composites_naming_alarm(ctx, alarm);
    if !parents.is_empty() {
        let names: Vec<String> = parents
            .iter()
            .map(|p| format!("{}/{}", p.namespace.as_deref().unwrap_or_default(), p.name))
            .collect();
        return Err(Error::dependency(format!(
            "alarm {name:?} is still used by CompositeAlarm {}; it is deleted once they no longer name it",
            names.join(", ")
        )));
    }
    ctx.tag_reads
        .forget(&format!("Alarm/{}", object_key(alarm)));
    let confirmed = ownership_confirmed(alarm.status.as_ref().map(|s| &s.common), &name);
    lifecycle::delete(ctx, region, &name, false, &ctx.owner(alarm), confirmed).await
}
