//! The reconcile path metric alarms and composite alarms share:
//! 1. what the kind works out before reading AWS (a composite's rule, resolved) (pure, caches);
//! 2. DescribeAlarms through the batched reader (network);
//! 3. missing: under ObserveOnly report it; otherwise the kind's pre-write check (a composite's
//!    children must exist) and the Put with the tags (network). No read follows a metric alarm's
//!    create: its ARN follows from the account (learned from any earlier DescribeAlarms answer
//!    in the region) and its name, and CloudWatch starts it in INSUFFICIENT_DATA; it is read
//!    back only while the account is not known yet. A new composite is read back: CloudWatch
//!    evaluates its rule at once;
//! 4. present: observed configuration and live state (pure); under ObserveOnly report the
//!    differences and stop; ListTagsForResource when due (network) and the ownership gate
//!    (pure); the plan (pure); the Put and TagResource / UntagResource it needs (network) —
//!    nothing when the plan is empty;
//! 5. the kind's status from what was read (pure).

use super::delete::AlarmType;
use super::family::AlarmFamily;
use super::live::{self, LiveState, state_change};
use super::spec::AlarmState;
use crate::aws::alarm_reader::{AlarmRecord, Wrote};
use crate::aws::cloudwatch_tags;
use crate::common_fields::Tags;
use crate::error::{Error, Result};
use crate::field_diff::changed_fields;
use crate::plan::update;
use crate::reason::Reason;
use crate::runtime::{Applied, ManagedKind, Notice, Reconcile};
use crate::tags::desired_tags;
use crate::vocabulary::EventReason;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;

/// A configuration write about to be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write<'a> {
    /// The alarm is created.
    Create,
    /// The alarm is updated because these fields differ.
    Update(&'a [String]),
}

/// What is its own to each kind of CloudWatch alarm along the shared path.
pub trait AlarmKind: ManagedKind<Shared = AlarmFamily> {
    /// The alarm as DescribeAlarms returns it.
    type Record: Send + Sync;
    /// The Put request's fields in normal form: sets sorted, defaults filled, so that comparing
    /// the spec's with AWS's finds no difference when there is none.
    type Fields: Serialize + PartialEq + Send + Sync;
    /// What the kind works out before reading AWS.
    type Prepared: Send + Sync;
    /// The Put call, as named in Events.
    const PUT: &'static str;
    /// Which DeleteAlarms treats it as.
    const TYPE: AlarmType;
    /// Whether a created alarm's state is known only from a read: CloudWatch starts every new
    /// alarm in INSUFFICIENT_DATA, but evaluates a composite alarm's rule right after creating
    /// it ("this initial time after creation is the only time" a composite can be in
    /// INSUFFICIENT_DATA), so a new composite is read back; a new metric alarm is not.
    const READ_AFTER_CREATE: bool;

    /// The user's tags.
    fn user_tags(&self) -> &Tags;

    /// This kind's record out of DescribeAlarms' answer; an alarm of the other type is someone
    /// else's, and is returned as it came.
    fn own(record: AlarmRecord) -> Result<Self::Record, AlarmRecord>;

    /// Works out what the kind needs before reading AWS.
    fn prepare(
        &self,
        r: &Reconcile<'_, Self>,
    ) -> impl Future<Output = Result<Self::Prepared>> + Send;

    /// The desired Put fields.
    fn desired(&self, prepared: &Self::Prepared) -> Self::Fields;

    /// The Put fields AWS reports.
    fn observed(record: &Self::Record) -> Self::Fields;

    /// The live state AWS reports.
    fn live(record: &Self::Record) -> LiveState;

    /// The ARN AWS reports.
    fn arn(record: &Self::Record) -> Option<&str>;

    /// The live state the status reports now.
    fn state_value(status: &Self::Status) -> Option<AlarmState>;

    /// Checks that must pass before `write` (AWS refuses a composite whose children do not
    /// exist yet).
    fn before_write(
        r: &Reconcile<'_, Self>,
        prepared: &Self::Prepared,
        write: Write<'_>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The Put. `tags` only on create: AWS ignores tags on an update.
    fn put(
        r: &Reconcile<'_, Self>,
        fields: &Self::Fields,
        tags: Option<&BTreeMap<String, String>>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The status, from the record read (if any), the live state and what was prepared.
    fn alarm_status(
        r: &Reconcile<'_, Self>,
        record: Option<&Self::Record>,
        live: &LiveState,
        prepared: &Self::Prepared,
    ) -> Self::Status;
}

/// Reconciles the alarm `obj` (see the module's steps).
pub async fn apply<K: AlarmKind>(obj: &K, r: &Reconcile<'_, K>) -> Result<Applied<K::Status>> {
    let prepared = obj.prepare(r).await?;
    let location = &r.location;
    let name = r.name.as_str();
    let reader = &r.shared.reader;
    let desired = obj.desired(&prepared);
    let want_tags = desired_tags(obj.user_tags(), &r.owner);

    let existing = match reader.describe(location, name).await? {
        Some(record) => Some(K::own(record).map_err(|other| other_type(r, &other))?),
        None => None,
    };
    let Some(existing) = existing else {
        if r.observe_only() {
            let status = K::alarm_status(r, None, &LiveState::default(), &prepared);
            return Ok(Applied::new(status, r.not_found()));
        }
        K::before_write(r, &prepared, Write::Create).await?;
        K::put(r, &desired, Some(&want_tags)).await?;
        r.tags_written();
        let known_arn = if K::READ_AFTER_CREATE {
            None
        } else {
            reader.arn_of(location, name)
        };
        let (created, live) = match known_arn {
            Some(arn) => {
                reader.wrote(location, name, Wrote::Put);
                (None, live::created(Some(arn), Timestamp::now()))
            }
            None => {
                let created = match reader.describe_after_write(location, name).await {
                    Ok(Some(record)) => K::own(record).ok(),
                    _ => None,
                };
                let live = match &created {
                    Some(record) => K::live(record),
                    None => live::created(None, Timestamp::now()),
                };
                (created, live)
            }
        };
        let status = K::alarm_status(r, created.as_ref(), &live, &prepared);
        return Ok(Applied::new(status, r.matches_spec()).notices([r.created(K::PUT)]));
    };

    let observed = K::observed(&existing);
    let live = K::live(&existing);
    let status = K::alarm_status(r, Some(&existing), &live, &prepared);
    let mut notices = Vec::new();
    let before = r.previous().and_then(K::state_value);
    if let Some(note) = state_change(before, &live) {
        notices.push(Notice::new(
            EventReason::StateChanged,
            "DescribeAlarms",
            note,
        ));
    }
    if r.observe_only() {
        let verdict = r.observed(&changed_fields(&desired, &observed));
        return Ok(Applied::new(status, verdict).notices(notices));
    }

    let arn = K::arn(&existing).unwrap_or_default();
    let observed_tags = if r.tags_due() {
        Some(cloudwatch_tags::list(&r.ctx.aws, location, arn).await?)
    } else {
        None
    };
    if let Some(tags) = &observed_tags {
        notices.extend(r.gate(tags)?);
    }
    let plan = update(&desired, &observed, &want_tags, observed_tags.as_ref());
    if !plan.fields.is_empty() {
        K::before_write(r, &prepared, Write::Update(&plan.fields)).await?;
        K::put(r, &desired, None).await?;
        reader.wrote(location, name, Wrote::Put);
        notices.push(r.changed(K::PUT, &plan.fields));
    }
    if !plan.tags.is_empty() {
        cloudwatch_tags::apply(&r.ctx.aws, location, arn, &plan.tags).await?;
        notices.extend(r.tags_changed("TagResource", &plan.tags));
    }
    Ok(Applied::new(status, r.matches_spec()).notices(notices))
}

/// The refusal for an alarm of the other type under this object's name.
fn other_type<K: AlarmKind>(r: &Reconcile<'_, K>, other: &AlarmRecord) -> Error {
    let (found, manages) = match other {
        AlarmRecord::Metric(_) => (
            "a metric alarm",
            "a CompositeAlarm manages composite alarms",
        ),
        AlarmRecord::Composite(_) => ("a composite alarm", "an Alarm manages metric alarms"),
    };
    Error::new(
        Reason::AlreadyExistsUnowned,
        format!(
            "{found} named {:?} already exists in {}; {manages}. Choose another spec.alarmName",
            r.name, r.region
        ),
    )
}
