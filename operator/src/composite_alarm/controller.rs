//! The CompositeAlarm controller.
//!
//! apply:
//! 1. the rule from the spec as one AST, validated (pure);
//! 2. `alarmRef`s resolved to CloudWatch names from the cluster's Alarm objects (cache), waiting
//!    with `DependencyNotReady` for any that do not exist yet;
//! 3. cycle check over every composite the cluster declares in the region (pure);
//! 4. DescribeAlarms for the composite (batched; network) and, before any write that introduces
//!    children, for its children — they must exist in CloudWatch first (network);
//! 5. ownership, plan (pure); PutCompositeAlarm / TagResource / UntagResource (network);
//! 6. status with the live state, the resolved rule and children (pure).
//!
//! cleanup: wait while another composite in the cluster names this one; then DeleteAlarms with
//! this composite alone (AWS deletes at most one composite per call) and confirm.

use super::dependents;
use super::desired::{aws_name, desired, put_request, spec_rule, validate_resolved};
use super::graph::describe_cycle;
use super::observed::observed;
use super::rule;
use super::spec::{CompositeAlarm, CompositeAlarmStatus};
use super::status::{ResolvedView, status};
use crate::alarm::lifecycle;
use crate::alarm::observed::composite_live_state;
use crate::alarm::status::{just_created, state_change};
use crate::aws::alarm_reader::{AlarmRecord, MAX_NAMES_PER_CALL};
use crate::aws::api::Api;
use crate::aws::cloudwatch_tags;
use crate::common_fields::ManagementPolicy;
use crate::conditions::Verdict;
use crate::error::{Error, Result};
use crate::field_diff::changed_fields;
use crate::ownership;
use crate::plan::{Change, plan};
use crate::reason::Reason;
use crate::runtime::context::Context;
use crate::runtime::lifecycle::{change_notice, observed_message, ownership_confirmed};
use crate::runtime::reconcile::object_key;
use crate::runtime::{Applied, ManagedKind, Notice};
use crate::tags::desired_tags;
use kube::ResourceExt;
use std::collections::BTreeSet;
use std::sync::Arc;

impl ManagedKind for CompositeAlarm {
    const KIND: &'static str = "CompositeAlarm";
    type Status = CompositeAlarmStatus;
    /// DescribeAlarms reads 100 alarms per call.
    const RESYNC_CHUNK: usize = MAX_NAMES_PER_CALL;

    crate::common_field_accessors!(CompositeAlarmStatus);

    async fn apply(&self, ctx: &Context, region: &str) -> Result<Applied<CompositeAlarmStatus>> {
        apply(self, ctx, region).await
    }

    async fn cleanup(&self, ctx: &Context, region: &str) -> Result<()> {
        cleanup(self, ctx, region).await
    }

    async fn prefetch(ctx: &Context, region: &str, objects: &[Arc<Self>]) {
        let names: Vec<String> = objects
            .iter()
            .map(|c| aws_name(&c.spec, &c.name_any()))
            .collect();
        if let Err(e) = ctx.alarm_reader.prefetch(region, &names).await {
            tracing::debug!(error = %e, "resync prefetch of composite alarms failed; reconciles read again");
        }
    }

    fn became_ready(&self, ctx: &Context) {
        // Composites whose rule names this one may be waiting for it to exist.
        let name = aws_name(&self.spec, &self.name_any());
        let region = self
            .status
            .as_ref()
            .and_then(|s| s.common.region.as_deref());
        for parent in dependents::composites_naming(ctx, &name, region, None) {
            ctx.wake_composite(parent);
        }
    }

    fn deleted(&self, ctx: &Context) {
        // Alarms (and composites) this composite named may be waiting to be deleted.
        let namespace = self.namespace().unwrap_or_default();
        let children: BTreeSet<String> = self
            .status
            .as_ref()
            .map(|s| s.resolved_children.iter().cloned().collect())
            .unwrap_or_default();
        for alarm in ctx.alarms.state() {
            let same_ns = alarm.namespace().as_deref() == Some(namespace.as_str());
            let name = crate::alarm::desired::aws_name(&alarm.spec, &alarm.name_any());
            if alarm.metadata.deletion_timestamp.is_some() && (same_ns || children.contains(&name))
            {
                ctx.wake_alarm(kube::runtime::reflector::ObjectRef::from_obj(&*alarm));
            }
        }
        for composite in ctx.composites.state() {
            if composite.metadata.deletion_timestamp.is_some() {
                ctx.wake_composite(kube::runtime::reflector::ObjectRef::from_obj(&*composite));
            }
        }
    }
}

async fn apply(
    composite: &CompositeAlarm,
    ctx: &Context,
    region: &str,
) -> Result<Applied<CompositeAlarmStatus>> {
    let key = format!("CompositeAlarm/{}", object_key(composite));
    let namespace = composite.namespace().unwrap_or_default();
    let rule = spec_rule(&composite.spec)?;
    // Right after a start, an Alarm missing from a cache still being filled is not missing.
    ctx.alarms_synced.wait().await;
    let resolved = rule
        .resolve(|object| dependents::alarm_object_name(ctx, &namespace, object))
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
    let name = aws_name(&composite.spec, &composite.name_any());
    let what = format!("composite alarm {name:?}");
    if let Some(cycle) = dependents::graph(ctx, region, &name, &children).cycle_through(&name) {
        return Err(Error::invalid_spec(format!(
            "the rule makes a cycle of composite alarms: {}. CloudWatch stops evaluating alarms in a \
             cycle and refuses to delete them; remove one of the references",
            describe_cycle(&cycle)
        )));
    }
    let view = ResolvedView {
        rule: Some(resolved.render()),
        children: children.clone(),
    };
    let desired = desired(&composite.spec, &composite.name_any(), &resolved);
    let owner = ctx.owner(composite);
    let want_tags = desired_tags(&composite.spec.tags, &owner);
    let observe_only = composite.spec.common.management_policy == ManagementPolicy::ObserveOnly;
    let previous = composite.status.as_ref();
    let confirmed = ownership_confirmed(previous.map(|p| &p.common), &name);
    let client = &ctx.aws.clients(region).cloudwatch;

    let existing = match ctx.alarm_reader.describe(region, &name).await? {
        Some(AlarmRecord::Composite(c)) => c,
        Some(AlarmRecord::Metric(_)) => {
            return Err(Error::new(
                Reason::AlreadyExistsUnowned,
                format!(
                    "a metric alarm named {name:?} already exists in {region}; a CompositeAlarm \
                     manages composite alarms. Choose another spec.alarmName"
                ),
            ));
        }
        None if observe_only => {
            return Ok(Applied::new(
                status(&name, None, None, &view, previous),
                Verdict::waiting(
                    Reason::NotFound,
                    format!("{what} does not exist in {region}"),
                ),
            ));
        }
        None => {
            require_children(ctx, region, &children).await?;
            let request = put_request(client.put_composite_alarm(), &desired, Some(&want_tags));
            ctx.aws
                .call(region, Api::PutCompositeAlarm, request.send())
                .await?;
            ctx.tag_reads.due(&key, true);
            let (record, live) = match ctx.alarm_reader.describe_after_write(region, &name).await {
                Ok(Some(AlarmRecord::Composite(c))) => (Some(c), None),
                _ => (None, Some(just_created())),
            };
            let notice = if confirmed {
                Notice::warning(
                    "Recreated",
                    "PutCompositeAlarm",
                    format!("{what} was deleted outside the operator and has been created again"),
                )
            } else {
                Notice::normal(
                    "Created",
                    "PutCompositeAlarm",
                    format!("created {what} in {region}"),
                )
            };
            return Ok(Applied::new(
                status(&name, record.as_deref(), live, &view, previous),
                // The same message as a later reconcile that finds nothing to do, so that one
                // does not rewrite the status; the Created event records the creation.
                Verdict::ready(Reason::Available, format!("{what} matches the spec")),
            )
            .notice(notice));
        }
    };

    let observed_config = observed(&existing);
    let mut notices = Vec::new();
    let live = composite_live_state(&existing);
    if let Some(note) = state_change(previous.and_then(|p| p.state_value), &live) {
        notices.push(Notice::normal("StateChanged", "DescribeAlarms", note));
    }
    if observe_only {
        let differences = changed_fields(&desired.fields, &observed_config.fields);
        let verdict = Verdict::ready(Reason::Observed, observed_message(&what, &differences));
        return Ok(Applied {
            status: status(&name, Some(&existing), None, &view, previous),
            verdict,
            notices,
        });
    }

    let spec_changed =
        previous.and_then(|p| p.common.observed_generation) != composite.metadata.generation;
    let arn = existing.alarm_arn.clone().unwrap_or_default();
    let observed_tags =
        lifecycle::tags_if_due(ctx, &key, !confirmed || spec_changed, region, &arn).await?;
    if let Some(tags) = &observed_tags
        && let Some(note) = ownership::gate(tags, &owner, composite.spec.common.adoption, &what)?
    {
        notices.push(Notice::normal("Adopted", "TagResource", note));
    }
    let drift = confirmed && !spec_changed;
    let plan = plan(
        &desired.fields,
        Some(&observed_config.fields),
        &want_tags,
        observed_tags.as_ref(),
    );
    if let Some(Change::Update { fields }) = &plan.change {
        if fields.iter().any(|f| f == "alarmRule") {
            require_children(ctx, region, &children).await?;
        }
        let request = put_request(client.put_composite_alarm(), &desired, None);
        ctx.aws
            .call(region, Api::PutCompositeAlarm, request.send())
            .await?;
        ctx.alarm_reader.wrote(region, &name);
        notices.push(change_notice(drift, "PutCompositeAlarm", fields));
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
        status: status(&name, Some(&existing), None, &view, previous),
        verdict,
        notices,
    })
}

/// Every child must exist in CloudWatch before the composite is written (PutCompositeAlarm
/// refuses unknown children). The reads are batched, so checking 100 children is one call.
async fn require_children(ctx: &Context, region: &str, children: &BTreeSet<String>) -> Result<()> {
    let reads = futures::future::join_all(
        children
            .iter()
            .map(|c| ctx.alarm_reader.describe(region, c)),
    )
    .await;
    let mut missing = Vec::new();
    for (child, read) in children.iter().zip(reads) {
        if read?.is_none() {
            missing.push(child.as_str());
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::dependency(format!(
            "waiting for child alarms to exist in CloudWatch ({region}): {}",
            missing.join(", ")
        )))
    }
}

async fn cleanup(composite: &CompositeAlarm, ctx: &Context, region: &str) -> Result<()> {
    let name = aws_name(&composite.spec, &composite.name_any());
    let parents = dependents::composites_naming(ctx, &name, Some(region), None);
    let parents: Vec<String> = parents
        .iter()
        .filter(|p| !(p.name == composite.name_any() && p.namespace == composite.namespace()))
        .map(|p| format!("{}/{}", p.namespace.as_deref().unwrap_or_default(), p.name))
        .collect();
    if !parents.is_empty() {
        return Err(Error::dependency(format!(
            "composite alarm {name:?} is still used by CompositeAlarm {}; it is deleted once they no longer name it",
            parents.join(", ")
        )));
    }
    ctx.tag_reads
        .forget(&format!("CompositeAlarm/{}", object_key(composite)));
    let confirmed = ownership_confirmed(composite.status.as_ref().map(|s| &s.common), &name);
    lifecycle::delete(ctx, region, &name, true, &ctx.owner(composite), confirmed).await
}
