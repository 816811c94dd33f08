//! The MetricStream controller: the thin shell that runs the pure steps against AWS.
//!
//! apply:
//! 1. desired configuration, running state and tags from the spec, validated (pure);
//! 2. GetMetricStream (network; there is no batch read), and ListTagsForResource when ownership
//!    is unconfirmed, the spec changed, or the tag resync is due (network);
//! 3. DescribeDeliveryStream for the Firehose destination, in the stream's account and the region
//!    its ARN names (network);
//! 4. ownership decision (pure); under ObserveOnly, a report of the differences and stop here;
//! 5. the destination must be ACTIVE before any write, else `DependencyNotReady` (pure);
//! 6. plan (pure); PutMetricStream / TagResource / UntagResource / Start- or StopMetricStreams
//!    (batched) as planned (network) — nothing when the plan is empty — then GetMetricStream
//!    again to report what AWS now holds (network);
//! 7. status from the observation (pure); the runtime writes it only if it changed.
//!
//! `assess` runs steps 1 to 6 up to their writes; `apply` carries out what it decided, and
//! `plan` describes it (`preview`).
//!
//! cleanup: DeleteMetricStream, only for a stream this object owns: one whose ownership an
//! earlier reconcile confirmed is deleted at once, any other is read (GetMetricStream,
//! ListTagsForResource) first.

use super::desired::{StreamConfig, aws_name, desired, put_request, wants_running};
use super::diff::{Change, RunChange, StreamPlan, plan, run_change};
use super::firehose::{self, DeliveryStreamArn};
use super::observed::{LiveStream, live, observed};
use super::spec::{MetricStream, MetricStreamDesiredState, MetricStreamStatus, StreamState};
use super::status::{after_writes, status};
use super::validate::validate;
use crate::aws::api::Api;
use crate::aws::cloudwatch_tags;
use crate::aws::metric_stream_switch::MetricStreamSwitch;
use crate::aws::metric_streams;
use crate::error::{Error, Result};
use crate::field_diff::{FieldChange, changes, top_level_fields};
use crate::preview::Preview;
use crate::reason::Reason;
use crate::runtime::notices::Subject;
use crate::runtime::preview::Plannable;
use crate::runtime::{Applied, Failed, ManagedKind, Notice, Reconcile};
use crate::tags::desired_tags;
use crate::vocabulary::EventReason;
use aws_sdk_cloudwatch::operation::get_metric_stream::GetMetricStreamOutput;
use kube::ResourceExt;
use std::collections::BTreeMap;

impl ManagedKind for MetricStream {
    const KIND: &'static str = "MetricStream";
    type Status = MetricStreamStatus;
    /// Start/StopMetricStreams, batched across streams.
    type Shared = MetricStreamSwitch;

    crate::common_field_accessors!(MetricStreamStatus);

    fn aws_name(&self) -> String {
        aws_name(&self.spec, &self.name_any())
    }

    fn describe(&self) -> String {
        format!("metric stream {:?}", self.aws_name())
    }

    async fn apply(
        &self,
        r: &Reconcile<'_, Self>,
    ) -> Result<Applied<MetricStreamStatus>, Failed<MetricStreamStatus>> {
        Ok(apply(self, r).await?)
    }

    async fn cleanup(&self, r: &Reconcile<'_, Self>) -> Result<()> {
        cleanup(self, r).await
    }
}

/// What a reconcile of a stream found in AWS and decided, before it writes anything. `apply`
/// carries it out; `plan` describes it.
struct Assessment {
    desired: StreamConfig,
    running: bool,
    want_tags: BTreeMap<String, String>,
    /// What DescribeDeliveryStream reported for the destination (`None`: it does not exist).
    firehose_status: Option<String>,
    step: Step,
}

/// What the reconcile does next.
enum Step {
    /// ObserveOnly, and no stream of that name exists.
    NotFound,
    /// ObserveOnly: the stream, how it differs from the spec, and why its destination cannot
    /// take records, if it cannot.
    Observed {
        existing: Box<GetMetricStreamOutput>,
        differences: Vec<FieldChange>,
        destination: Option<Error>,
    },
    /// The stream is managed by this object (`adopted`: it takes it over now); `plan` makes it
    /// match, once nothing `blocked` it (the destination must be ACTIVE).
    Manage {
        existing: Option<Box<GetMetricStreamOutput>>,
        observed_tags: Option<BTreeMap<String, String>>,
        adopted: Option<Notice>,
        plan: StreamPlan,
        blocked: Option<Error>,
    },
}

/// Steps 1 to 6 of the module, up to the writes.
async fn assess(stream: &MetricStream, r: &Reconcile<'_, MetricStream>) -> Result<Assessment> {
    let location = &r.location;
    let desired = desired(&stream.spec, &stream.name_any());
    let destination = validate(&desired)?;
    let running = wants_running(&stream.spec);
    let want_tags = desired_tags(&stream.spec.tags, &r.owner);

    let existing = get(r, &r.name).await?.map(Box::new);
    let firehose_status = delivery_stream_status(r, &destination).await?;
    let ready = firehose::ready(&destination, firehose_status.as_deref());
    let assessment = |step| Assessment {
        desired: desired.clone(),
        running,
        want_tags: want_tags.clone(),
        firehose_status: firehose_status.clone(),
        step,
    };

    if r.observe_only() {
        let Some(existing) = existing else {
            return Ok(assessment(Step::NotFound));
        };
        let mut differences = changes(&desired.fields, &observed(&existing).fields);
        differences.extend(desired_state_change(running, live(&existing).state));
        return Ok(assessment(Step::Observed {
            existing,
            differences,
            destination: ready.err(),
        }));
    }

    let mut observed_tags = None;
    let mut adopted = None;
    if let Some(existing) = &existing {
        let arn = existing.arn.clone().unwrap_or_default();
        if r.tags_due() {
            observed_tags = Some(cloudwatch_tags::list(&r.ctx.aws, location, &arn).await?);
        }
        if let Some(tags) = &observed_tags {
            adopted = r.gate(tags)?;
        }
    }
    let before = existing.as_ref().map(|e| (observed(e), live(e)));
    let plan = plan(
        &desired,
        running,
        before.as_ref().map(|(config, live)| (config, live)),
        &want_tags,
        observed_tags.as_ref(),
    );
    Ok(assessment(Step::Manage {
        existing,
        observed_tags,
        adopted,
        plan,
        // PutMetricStream documents no error for a missing or inactive destination, and such a
        // stream delivers nothing: nothing is written until the delivery stream is ACTIVE.
        blocked: ready.err(),
    }))
}

/// The running state as a change of `desiredState`, when it differs from what is wanted.
fn desired_state_change(running: bool, state: Option<StreamState>) -> Option<FieldChange> {
    let name = |running: bool| {
        let state = if running {
            MetricStreamDesiredState::Running
        } else {
            MetricStreamDesiredState::Stopped
        };
        serde_json::to_value(state).ok()
    };
    run_change(running, state).map(|_| FieldChange {
        field: "desiredState".to_string(),
        old: state.and_then(|s| name(s == StreamState::Running)),
        new: name(running),
    })
}

async fn apply(
    stream: &MetricStream,
    r: &Reconcile<'_, MetricStream>,
) -> Result<Applied<MetricStreamStatus>> {
    let Assessment {
        desired,
        running,
        want_tags,
        firehose_status,
        step,
    } = assess(stream, r).await?;
    let name = r.name.as_str();
    let previous = r.previous();
    let reported_firehose = Some(firehose::reported_status(firehose_status.as_deref()));

    let (existing, adopted, plan) = match step {
        Step::NotFound => {
            let status = status(name, &LiveStream::default(), reported_firehose, previous);
            return Ok(Applied::new(status, r.not_found()));
        }
        Step::Observed {
            existing,
            differences,
            destination,
        } => {
            let mut verdict = r.observed(&top_level_fields(&differences));
            if let Some(e) = destination {
                verdict.message = format!("{}; {}", verdict.message, e.message);
            }
            return Ok(Applied::new(
                status(name, &live(&existing), reported_firehose, previous),
                verdict,
            ));
        }
        Step::Manage {
            existing,
            observed_tags: _,
            adopted,
            plan,
            blocked,
        } => {
            if let Some(e) = blocked {
                return Err(e);
            }
            (existing, adopted, plan)
        }
    };

    let mut notices: Vec<Notice> = adopted.into_iter().collect();
    let live_before = existing.map(|e| live(&e));
    if plan.is_empty() {
        let live = live_before.unwrap_or_default();
        return Ok(Applied::new(
            status(name, &live, reported_firehose, previous),
            r.matches_spec(),
        )
        .notices(notices));
    }

    let arn = write(r, &desired, &want_tags, &plan, live_before.as_ref()).await?;
    notices.extend(plan_notices(r.subject(), &plan, running));
    if plan.config.change == Some(Change::Create) {
        // The tags went with the create: no need to read them again before the next period.
        r.tags_written();
    }
    let live = match get(r, name).await {
        Ok(Some(now)) => live(&now),
        _ => LiveStream {
            arn,
            ..after_writes(live_before.as_ref(), plan.run)
        },
    };
    Ok(Applied::new(
        status(name, &live, reported_firehose, previous),
        r.matches_spec(),
    )
    .notices(notices))
}

/// What `apply` would do, described (see [`crate::runtime::preview`]).
async fn preview(stream: &MetricStream, r: &Reconcile<'_, MetricStream>) -> Result<Preview> {
    let Assessment { running, step, .. } = assess(stream, r).await?;
    Ok(match step {
        Step::NotFound => Preview::observe_missing(r.not_found().message),
        Step::Observed { differences, .. } => Preview::observe(differences),
        Step::Manage {
            existing,
            observed_tags,
            adopted,
            plan,
            blocked,
        } => {
            let preview = match (&plan.config.change, existing) {
                (Some(Change::Create), _) | (_, None) => Preview::create(),
                (_, Some(existing)) => {
                    let mut changes = plan.config.changes.clone();
                    if let Some(tags) = &observed_tags {
                        changes.extend(plan.config.tags.user_changes(tags));
                    }
                    changes.extend(desired_state_change(running, live(&existing).state));
                    Preview::update(changes)
                }
            };
            preview
                .adopting(adopted.map(|n| n.note))
                .waiting_for(blocked.as_ref())
        }
    })
}

/// Runs the writes of `plan` in order: the configuration (a create carries the tags), the tags,
/// then the running state — last, because a new stream starts running and must be stopped after
/// it exists. Returns the stream's ARN.
async fn write(
    r: &Reconcile<'_, MetricStream>,
    desired: &StreamConfig,
    want_tags: &BTreeMap<String, String>,
    plan: &StreamPlan,
    live_before: Option<&LiveStream>,
) -> Result<Option<String>> {
    let location = &r.location;
    let client = &r.ctx.aws.clients(location).cloudwatch;
    let mut arn = live_before.and_then(|l| l.arn.clone());
    match &plan.config.change {
        Some(Change::Create) => {
            r.before_create().await?;
            let request = put_request(desired, Some(want_tags)).send_with(client);
            let out = r
                .ctx
                .aws
                .call(location, Api::PutMetricStream, request)
                .await?;
            arn = out.arn.or(arn);
        }
        Some(Change::Update { .. }) => {
            let request = put_request(desired, None).send_with(client);
            r.ctx
                .aws
                .call(location, Api::PutMetricStream, request)
                .await?;
        }
        None => {}
    }
    if !plan.config.tags.is_empty() {
        let arn = arn.as_deref().unwrap_or_default();
        cloudwatch_tags::apply(&r.ctx.aws, location, arn, &plan.config.tags).await?;
    }
    match plan.run {
        Some(RunChange::Start) => r.shared.start(location, &desired.name).await?,
        Some(RunChange::Stop) => r.shared.stop(location, &desired.name).await?,
        None => {}
    }
    Ok(arn)
}

/// The Events for the writes of `plan`.
fn plan_notices(r: Subject<'_>, plan: &StreamPlan, running: bool) -> Vec<Notice> {
    let mut notices = Vec::new();
    match &plan.config.change {
        Some(Change::Create) => {
            let mut created = r.created("PutMetricStream");
            created.note = format!(
                "{} ({})",
                created.note,
                if running { "running" } else { "stopped" }
            );
            // A create carries its tags and its stop; nothing more to tell.
            return vec![created];
        }
        Some(Change::Update { fields }) => notices.push(r.changed("PutMetricStream", fields)),
        None => {}
    }
    notices.extend(r.tags_changed("TagResource", &plan.config.tags));
    if let Some(run) = plan.run {
        notices.push(run_notice(run, r.what, r.drift()));
    }
    notices
}

/// The Event for a start or stop: a state change the spec asked for, or one put back.
pub fn run_notice(run: RunChange, what: &str, drift: bool) -> Notice {
    let (action, verb, undone, reason) = match run {
        RunChange::Start => (
            "StartMetricStreams",
            "started",
            "stopped",
            EventReason::Started,
        ),
        RunChange::Stop => (
            "StopMetricStreams",
            "stopped",
            "started",
            EventReason::Stopped,
        ),
    };
    if drift {
        Notice::new(
            EventReason::DriftCorrected,
            action,
            format!("{verb} {what} again: it was {undone} outside the operator"),
        )
    } else {
        Notice::new(reason, action, format!("{verb} {what}"))
    }
}

/// GetMetricStream; `None` when the stream does not exist.
async fn get(r: &Reconcile<'_, MetricStream>, name: &str) -> Result<Option<GetMetricStreamOutput>> {
    metric_streams::get(&r.ctx.aws, &r.location, name).await
}

/// The status DescribeDeliveryStream reports for the destination (`ACTIVE`, `CREATING`, …);
/// `None` when it does not exist.
async fn delivery_stream_status(
    r: &Reconcile<'_, MetricStream>,
    destination: &DeliveryStreamArn,
) -> Result<Option<String>> {
    // In the stream's account (AWS wants the delivery stream there) and the region its ARN names.
    let location = r.location.in_region(&destination.region);
    let client = &r.ctx.aws.clients(&location).firehose;
    let request = client
        .describe_delivery_stream()
        .delivery_stream_name(&destination.name)
        .send();
    match r
        .ctx
        .aws
        .call(&location, Api::DescribeDeliveryStream, request)
        .await
    {
        Ok(out) => Ok(out
            .delivery_stream_description
            .map(|d| d.delivery_stream_status.as_str().to_string())),
        Err(e) if e.reason == Reason::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl Plannable for MetricStream {
    async fn preview(&self, r: &Reconcile<'_, Self>) -> Result<Preview> {
        preview(self, r).await
    }
}

async fn cleanup(stream: &MetricStream, r: &Reconcile<'_, MetricStream>) -> Result<()> {
    let name = r.name.as_str();
    r.forget_tags();
    if !r.confirmed {
        // Never confirmed as this object's: only a stream that carries its owner tag goes.
        let Some(existing) = get(r, name).await? else {
            return Ok(());
        };
        let arn = existing.arn.as_deref().unwrap_or_default();
        let tags = cloudwatch_tags::list(&r.ctx.aws, &r.location, arn).await?;
        if !r.owner.owns(&tags) {
            tracing::info!(stream = %name, "not deleting a metric stream this object does not own");
            return Ok(());
        }
    }
    let _ = stream;
    // DeleteMetricStream succeeds for a stream that is already gone, and its success means the
    // stream is gone: no read before or after.
    let client = &r.ctx.aws.clients(&r.location).cloudwatch;
    let request = client.delete_metric_stream().name(name).send();
    r.ctx
        .aws
        .call(&r.location, Api::DeleteMetricStream, request)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_put_back_is_a_drift_warning_and_a_requested_one_is_normal() {
        let drift = run_notice(RunChange::Start, "metric stream \"s\"", true);
        assert!(drift.is_warning());
        assert_eq!(drift.reason, EventReason::DriftCorrected);
        assert_eq!(
            drift.note,
            "started metric stream \"s\" again: it was stopped outside the operator"
        );
        let asked = run_notice(RunChange::Stop, "metric stream \"s\"", false);
        assert!(!asked.is_warning());
        assert_eq!(asked.reason, EventReason::Stopped);
    }

    #[test]
    fn a_create_is_one_event_even_when_it_stops_the_new_stream() {
        let plan = StreamPlan {
            config: crate::plan::Plan {
                change: Some(Change::Create),
                ..Default::default()
            },
            run: Some(RunChange::Stop),
        };
        let mut subject = Subject {
            what: "metric stream \"s\"",
            region: "us-east-1",
            confirmed: false,
            spec_changed: true,
        };
        let notices = plan_notices(subject, &plan, false);
        assert_eq!(notices.len(), 1);
        assert_eq!(notices[0].reason, EventReason::Created);
        assert!(notices[0].note.contains("(stopped)"), "{}", notices[0].note);
        subject.confirmed = true;
        subject.spec_changed = false;
        let recreated = plan_notices(subject, &plan, false);
        assert_eq!(recreated[0].reason, EventReason::Recreated);
        assert!(recreated[0].is_warning());
    }
}
