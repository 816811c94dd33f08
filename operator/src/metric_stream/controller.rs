//! The MetricStream controller: the thin shell that runs the pure steps against AWS.
//!
//! apply:
//! 1. desired configuration, running state and tags from the spec, validated (pure);
//! 2. GetMetricStream (network; there is no batch read), and ListTagsForResource when ownership
//!    is unconfirmed, the spec changed, or the tag resync is due (network);
//! 3. DescribeDeliveryStream for the Firehose destination, in the region its ARN names
//!    (network);
//! 4. ownership decision (pure); under ObserveOnly, a report of the differences and stop here;
//! 5. the destination must be ACTIVE before any write, else `DependencyNotReady` (pure);
//! 6. plan (pure); PutMetricStream / TagResource / UntagResource / Start- or StopMetricStreams
//!    (batched) as planned (network) — nothing when the plan is empty — then GetMetricStream
//!    again to report what AWS now holds (network);
//! 7. status from the observation (pure); the runtime writes it only if it changed.
//!
//! cleanup: DeleteMetricStream, only for a stream this object owns, and GetMetricStream to
//! confirm it is gone.

use super::desired::{StreamConfig, aws_name, desired, put_request, wants_running};
use super::diff::{Change, RunChange, StreamPlan, plan, run_change};
use super::firehose::{self, DeliveryStreamArn};
use super::observed::{LiveStream, live, observed};
use super::spec::{MetricStream, MetricStreamStatus};
use super::status::{after_writes, status};
use super::validate::validate;
use crate::aws::api::Api;
use crate::aws::cloudwatch_tags;
use crate::common_fields::ManagementPolicy;
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
use aws_sdk_cloudwatch::operation::get_metric_stream::GetMetricStreamOutput;
use kube::ResourceExt;

impl ManagedKind for MetricStream {
    const KIND: &'static str = "MetricStream";
    type Status = MetricStreamStatus;

    crate::common_field_accessors!(MetricStreamStatus);

    async fn apply(&self, ctx: &Context, region: &str) -> Result<Applied<MetricStreamStatus>> {
        apply(self, ctx, region).await
    }

    async fn cleanup(&self, ctx: &Context, region: &str) -> Result<()> {
        cleanup(self, ctx, region).await
    }
}

fn tag_key(stream: &MetricStream) -> String {
    format!("MetricStream/{}", object_key(stream))
}

async fn apply(
    stream: &MetricStream,
    ctx: &Context,
    region: &str,
) -> Result<Applied<MetricStreamStatus>> {
    let key = tag_key(stream);
    let desired = desired(&stream.spec, &stream.name_any());
    let destination = validate(&desired)?;
    let running = wants_running(&stream.spec);
    let name = desired.name.as_str();
    let what = format!("metric stream {name:?}");
    let owner = ctx.owner(stream);
    let want_tags = desired_tags(&stream.spec.tags, &owner);
    let previous = stream.status.as_ref();
    let confirmed = ownership_confirmed(previous.map(|p| &p.common), name);

    let existing = get(ctx, region, name).await?;
    let firehose_status = delivery_stream_status(ctx, &destination).await?;
    let reported_firehose = Some(firehose::reported_status(firehose_status.as_deref()));

    if stream.spec.common.management_policy == ManagementPolicy::ObserveOnly {
        let Some(existing) = existing else {
            return Ok(Applied::new(
                status(name, &LiveStream::default(), reported_firehose, previous),
                Verdict::waiting(
                    Reason::NotFound,
                    format!("{what} does not exist in {region}"),
                ),
            ));
        };
        let live = live(&existing);
        let mut differences = changed_fields(&desired.fields, &observed(&existing).fields);
        if run_change(running, live.state.as_deref()).is_some() {
            differences.push("desiredState".to_string());
        }
        let mut message = observed_message(&what, &differences);
        if let Err(e) = firehose::ready(&destination, firehose_status.as_deref()) {
            message = format!("{message}; {}", e.message);
        }
        return Ok(Applied::new(
            status(name, &live, reported_firehose, previous),
            Verdict::ready(Reason::Observed, message),
        ));
    }

    let spec_changed =
        previous.and_then(|p| p.common.observed_generation) != stream.metadata.generation;
    let mut notices = Vec::new();
    let mut observed_tags = None;
    if let Some(existing) = &existing {
        let arn = existing.arn.clone().unwrap_or_default();
        if ctx.tag_reads.due(&key, !confirmed || spec_changed) {
            observed_tags = Some(cloudwatch_tags::list(&ctx.aws, region, &arn).await?);
        }
        if let Some(tags) = &observed_tags
            && let Some(note) = ownership::gate(tags, &owner, stream.spec.common.adoption, &what)?
        {
            notices.push(Notice::normal("Adopted", "TagResource", note));
        }
    }
    // PutMetricStream documents no error for a missing or inactive destination, and such a
    // stream delivers nothing: nothing is written until the delivery stream is ACTIVE.
    firehose::ready(&destination, firehose_status.as_deref())?;

    let before = existing.as_ref().map(|e| (observed(e), live(e)));
    let plan = plan(
        &desired,
        running,
        before.as_ref().map(|(config, live)| (config, live)),
        &want_tags,
        observed_tags.as_ref(),
    );
    let live_before = before.map(|(_, live)| live);
    if plan.is_empty() {
        let live = live_before.unwrap_or_default();
        return Ok(Applied {
            status: status(name, &live, reported_firehose, previous),
            verdict: Verdict::ready(Reason::Available, format!("{what} matches the spec")),
            notices,
        });
    }

    let drift = confirmed && !spec_changed;
    let arn = write(
        ctx,
        region,
        &desired,
        &want_tags,
        &plan,
        live_before.as_ref(),
    )
    .await?;
    notices.extend(plan_notices(
        &plan, &what, region, running, confirmed, drift,
    ));
    if plan.config.change == Some(Change::Create) {
        // The tags went with the create: no need to read them again before the next period.
        ctx.tag_reads.due(&key, true);
    }
    let live = match get(ctx, region, name).await {
        Ok(Some(now)) => live(&now),
        _ => LiveStream {
            arn,
            ..after_writes(live_before.as_ref(), plan.run)
        },
    };
    // The same message as a reconcile with nothing to do, so the first resync after a write
    // has no status to write (the Event tells what was done).
    Ok(Applied {
        status: status(name, &live, reported_firehose, previous),
        verdict: Verdict::ready(Reason::Available, format!("{what} matches the spec")),
        notices,
    })
}

/// Runs the writes of `plan` in order: the configuration (a create carries the tags), the tags,
/// then the running state — last, because a new stream starts running and must be stopped after
/// it exists. Returns the stream's ARN.
async fn write(
    ctx: &Context,
    region: &str,
    desired: &StreamConfig,
    want_tags: &std::collections::BTreeMap<String, String>,
    plan: &StreamPlan,
    live_before: Option<&LiveStream>,
) -> Result<Option<String>> {
    let client = &ctx.aws.clients(region).cloudwatch;
    let mut arn = live_before.and_then(|l| l.arn.clone());
    match &plan.config.change {
        Some(Change::Create) => {
            let request = put_request(desired, Some(want_tags)).send_with(client);
            let out = ctx.aws.call(region, Api::PutMetricStream, request).await?;
            arn = out.arn.or(arn);
        }
        Some(Change::Update { .. }) => {
            let request = put_request(desired, None).send_with(client);
            ctx.aws.call(region, Api::PutMetricStream, request).await?;
        }
        None => {}
    }
    if !plan.config.tags.is_empty() {
        let arn = arn.as_deref().unwrap_or_default();
        cloudwatch_tags::apply(&ctx.aws, region, arn, &plan.config.tags).await?;
    }
    match plan.run {
        Some(RunChange::Start) => {
            ctx.metric_stream_switch
                .start(region, &desired.name)
                .await?
        }
        Some(RunChange::Stop) => ctx.metric_stream_switch.stop(region, &desired.name).await?,
        None => {}
    }
    Ok(arn)
}

/// The Events for the writes of `plan`.
fn plan_notices(
    plan: &StreamPlan,
    what: &str,
    region: &str,
    running: bool,
    confirmed: bool,
    drift: bool,
) -> Vec<Notice> {
    let mut notices = Vec::new();
    match &plan.config.change {
        Some(Change::Create) => {
            let state = if running { "running" } else { "stopped" };
            notices.push(if confirmed {
                Notice::warning(
                    "Recreated",
                    "PutMetricStream",
                    format!(
                        "{what} was deleted outside the operator and has been created again \
                         ({state})"
                    ),
                )
            } else {
                Notice::normal(
                    "Created",
                    "PutMetricStream",
                    format!("created {what} in {region} ({state})"),
                )
            });
            // A create carries its tags and its stop; nothing more to tell.
            return notices;
        }
        Some(Change::Update { fields }) => {
            notices.push(change_notice(drift, "PutMetricStream", fields));
        }
        None => {}
    }
    let tag_fields = plan.config.tags.drift_fields();
    if drift && !tag_fields.is_empty() {
        notices.push(change_notice(true, "TagResource", &tag_fields));
    }
    if let Some(run) = plan.run {
        notices.push(run_notice(run, what, drift));
    }
    notices
}

/// The Event for a start or stop: a state change the spec asked for, or one put back.
pub fn run_notice(run: RunChange, what: &str, drift: bool) -> Notice {
    let (action, verb, undone) = match run {
        RunChange::Start => ("StartMetricStreams", "started", "stopped"),
        RunChange::Stop => ("StopMetricStreams", "stopped", "started"),
    };
    if drift {
        Notice::warning(
            "DriftCorrected",
            action,
            format!("{verb} {what} again: it was {undone} outside the operator"),
        )
    } else {
        let reason = match run {
            RunChange::Start => "Started",
            RunChange::Stop => "Stopped",
        };
        Notice::normal(reason, action, format!("{verb} {what}"))
    }
}

/// GetMetricStream; `None` when the stream does not exist.
async fn get(ctx: &Context, region: &str, name: &str) -> Result<Option<GetMetricStreamOutput>> {
    let client = &ctx.aws.clients(region).cloudwatch;
    let request = client.get_metric_stream().name(name).send();
    match ctx.aws.call(region, Api::GetMetricStream, request).await {
        Ok(out) => Ok(Some(out)),
        Err(e) if e.reason == Reason::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The status DescribeDeliveryStream reports for the destination (`ACTIVE`, `CREATING`, …);
/// `None` when it does not exist.
async fn delivery_stream_status(
    ctx: &Context,
    destination: &DeliveryStreamArn,
) -> Result<Option<String>> {
    let region = destination.region.as_str();
    let client = &ctx.aws.clients(region).firehose;
    let request = client
        .describe_delivery_stream()
        .delivery_stream_name(&destination.name)
        .send();
    match ctx
        .aws
        .call(region, Api::DescribeDeliveryStream, request)
        .await
    {
        Ok(out) => Ok(out
            .delivery_stream_description
            .map(|d| d.delivery_stream_status.as_str().to_string())),
        Err(e) if e.reason == Reason::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

async fn cleanup(stream: &MetricStream, ctx: &Context, region: &str) -> Result<()> {
    let name = aws_name(&stream.spec, &stream.name_any());
    ctx.tag_reads.forget(&tag_key(stream));
    let Some(existing) = get(ctx, region, &name).await? else {
        return Ok(());
    };
    let confirmed = ownership_confirmed(stream.status.as_ref().map(|s| &s.common), &name);
    if !confirmed {
        let arn = existing.arn.as_deref().unwrap_or_default();
        let tags = cloudwatch_tags::list(&ctx.aws, region, arn).await?;
        if !ctx.owner(stream).owns(&tags) {
            tracing::info!(stream = %name, "not deleting a metric stream this object does not own");
            return Ok(());
        }
    }
    let client = &ctx.aws.clients(region).cloudwatch;
    let request = client.delete_metric_stream().name(&name).send();
    ctx.aws
        .call(region, Api::DeleteMetricStream, request)
        .await?;
    match get(ctx, region, &name).await? {
        None => Ok(()),
        Some(_) => Err(Error::new(
            Reason::AwsUnavailable,
            format!("metric stream {name:?} still exists after DeleteMetricStream; checking again"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_put_back_is_a_drift_warning_and_a_requested_one_is_normal() {
        let drift = run_notice(RunChange::Start, "metric stream \"s\"", true);
        assert!(drift.warning);
        assert_eq!(drift.reason, "DriftCorrected");
        assert_eq!(
            drift.note,
            "started metric stream \"s\" again: it was stopped outside the operator"
        );
        let asked = run_notice(RunChange::Stop, "metric stream \"s\"", false);
        assert!(!asked.warning);
        assert_eq!(asked.reason, "Stopped");
    }

    #[test]
    fn a_create_is_one_event_even_when_it_stops_the_new_stream() {
        let plan = StreamPlan {
            config: crate::plan::Plan {
                change: Some(Change::Create),
                tags: Default::default(),
            },
            run: Some(RunChange::Stop),
        };
        let notices = plan_notices(
            &plan,
            "metric stream \"s\"",
            "us-east-1",
            false,
            false,
            false,
        );
        assert_eq!(notices.len(), 1);
        assert_eq!(notices[0].reason, "Created");
        assert!(notices[0].note.contains("(stopped)"), "{}", notices[0].note);
        let recreated = plan_notices(&plan, "metric stream \"s\"", "us-east-1", false, true, true);
        assert_eq!(recreated[0].reason, "Recreated");
        assert!(recreated[0].warning);
    }
}
