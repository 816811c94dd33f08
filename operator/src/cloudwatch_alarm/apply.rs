//! The reconcile path metric alarms and composite alarms share. [`assess`] reads and decides
//! (steps 1 to 4 up to their writes), [`apply`] carries the decision out, and [`preview`] tells
//! what it would write (`plan`):
//! 1. what the kind works out before reading AWS (a composite's rule, resolved) (pure, caches);
//! 2. DescribeAlarms through the batched reader (network);
//! 3. missing: under ObserveOnly report it; otherwise the children a composite names must exist
//!    (DescribeAlarms, batched; network), then the Put with the tags (network). No read follows
//!    a metric alarm's create: its ARN follows from the account (learned from any earlier
//!    DescribeAlarms answer in the region) and its name, and CloudWatch starts it in
//!    INSUFFICIENT_DATA; it is read back only while the account is not known yet. A new
//!    composite is read back: CloudWatch evaluates its rule at once;
//! 4. present: observed configuration and live state (pure); under ObserveOnly report the
//!    differences and stop; ListTagsForResource when due (network) and the ownership gate
//!    (pure); the plan (pure); the Put and TagResource / UntagResource it needs (network) —
//!    nothing when the plan is empty;
//! 5. the kind's status from what was read (pure).

use super::delete::AlarmType;
use super::dependents;
use super::family::AlarmFamily;
use super::live::{self, LiveState, state_change};
use super::spec::AlarmState;
use crate::aws::alarm_reader::{AlarmRecord, Wrote};
use crate::aws::batch::Read;
use crate::aws::cloudwatch_tags;
use crate::common_fields::Tags;
use crate::error::{Error, Result};
use crate::field_diff::{FieldChange, changes, top_level_fields};
use crate::plan::{Update, update};
use crate::preview::Preview;
use crate::reason::Reason;
use crate::runtime::{Applied, ManagedKind, Notice, Reconcile};
use crate::tags::desired_tags;
use crate::vocabulary::EventReason;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Display;
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

    /// The alarms that must exist before `write` and do not yet: AWS refuses a composite whose
    /// children do not exist. The write waits for them.
    fn missing_children(
        r: &Reconcile<'_, Self>,
        prepared: &Self::Prepared,
        write: Write<'_>,
    ) -> impl Future<Output = Result<Vec<String>>> + Send;

    /// The Put. `tags` only on create: AWS ignores tags on an update. Returns when the request
    /// was sent, after its wait for a rate-limit slot ([`crate::aws::sent_at`]).
    fn put(
        r: &Reconcile<'_, Self>,
        fields: &Self::Fields,
        tags: Option<&BTreeMap<String, String>>,
    ) -> impl Future<Output = Result<Timestamp>> + Send;

    /// The status, from the record read (if any), the live state and what was prepared.
    fn alarm_status(
        r: &Reconcile<'_, Self>,
        record: Option<&Self::Record>,
        live: &LiveState,
        prepared: &Self::Prepared,
    ) -> Self::Status;
}

/// What a reconcile of an alarm found in AWS and decided, before it writes anything. `apply`
/// carries it out; `plan` describes it.
pub struct Assessment<K: AlarmKind> {
    pub prepared: K::Prepared,
    /// The desired Put fields.
    pub desired: K::Fields,
    /// The tags the alarm should carry: the user's and the ownership tags.
    pub want_tags: BTreeMap<String, String>,
    pub step: Step<K::Record>,
}

/// What the reconcile does next.
pub enum Step<R> {
    /// ObserveOnly, and no alarm of that name exists.
    NotFound,
    /// ObserveOnly: the alarm, and how it differs from the spec.
    Observed {
        record: R,
        differences: Vec<FieldChange>,
    },
    /// No alarm of that name exists: it is created with its tags, once the children a composite
    /// names exist (`missing_children`: those that do not yet).
    Create { missing_children: Vec<String> },
    /// The alarm exists and this object manages it (`adopted`: it takes it over now); `update`
    /// makes it match, with no write when it is empty, once `missing_children` exist.
    Sync {
        record: R,
        /// The tags read, when they were due.
        observed_tags: Option<BTreeMap<String, String>>,
        adopted: Option<Notice>,
        update: Update,
        missing_children: Vec<String>,
    },
}

/// Reads the alarm and decides what to write (the module's steps 1 to 4, up to the writes).
pub async fn assess<K: AlarmKind>(obj: &K, r: &Reconcile<'_, K>) -> Result<Assessment<K>> {
    let prepared = obj.prepare(r).await?;
    let desired = obj.desired(&prepared);
    let want_tags = desired_tags(obj.user_tags(), &r.owner);
    let step = next_step(r, &prepared, &desired, &want_tags).await?;
    Ok(Assessment {
        prepared,
        desired,
        want_tags,
        step,
    })
}

async fn next_step<K: AlarmKind>(
    r: &Reconcile<'_, K>,
    prepared: &K::Prepared,
    desired: &K::Fields,
    want_tags: &BTreeMap<String, String>,
) -> Result<Step<K::Record>> {
    let location = &r.location;
    let existing = match r
        .shared
        .reader
        .describe(location, &r.name, Read::Kept)
        .await?
    {
        Some(record) => Some(K::own(record).map_err(|other| other_type(r, &other))?),
        None => None,
    };
    let Some(existing) = existing else {
        if r.observe_only() {
            return Ok(Step::NotFound);
        }
        let missing_children = K::missing_children(r, prepared, Write::Create).await?;
        return Ok(Step::Create { missing_children });
    };
    let observed = K::observed(&existing);
    if r.observe_only() {
        return Ok(Step::Observed {
            differences: changes(desired, &observed),
            record: existing,
        });
    }
    let arn = K::arn(&existing).unwrap_or_default();
    let observed_tags = if r.tags_due() {
        Some(cloudwatch_tags::list(&r.ctx.aws, location, arn).await?)
    } else {
        None
    };
    let adopted = match &observed_tags {
        Some(tags) => r.gate(tags)?,
        None => None,
    };
    let update = update(desired, &observed, want_tags, observed_tags.as_ref());
    let missing_children = if update.fields.is_empty() {
        Vec::new()
    } else {
        K::missing_children(r, prepared, Write::Update(&update.fields)).await?
    };
    Ok(Step::Sync {
        record: existing,
        observed_tags,
        adopted,
        update,
        missing_children,
    })
}

/// Reconciles the alarm `obj` (see the module's steps).
pub async fn apply<K: AlarmKind>(obj: &K, r: &Reconcile<'_, K>) -> Result<Applied<K::Status>> {
    let Assessment {
        prepared,
        desired,
        want_tags,
        step,
    } = assess(obj, r).await?;
    let location = &r.location;
    let name = r.name.as_str();
    let reader = &r.shared.reader;
    let state_change_notice = |live: &LiveState| {
        let before = r.previous().and_then(K::state_value);
        state_change(before, live)
            .map(|note| Notice::new(EventReason::StateChanged, "DescribeAlarms", note))
    };
    match step {
        Step::NotFound => {
            let status = K::alarm_status(r, None, &LiveState::default(), &prepared);
            Ok(Applied::new(status, r.not_found()))
        }
        Step::Observed {
            record,
            differences,
        } => {
            let live = K::live(&record);
            let status = K::alarm_status(r, Some(&record), &live, &prepared);
            let verdict = r.observed(&top_level_fields(&differences));
            Ok(Applied::new(status, verdict).notices(state_change_notice(&live)))
        }
        Step::Create { missing_children } => {
            if !missing_children.is_empty() {
                return Err(children_missing(location, &missing_children));
            }
            r.before_create().await?;
            let sent = K::put(r, &desired, Some(&want_tags)).await?;
            let answered = Timestamp::now();
            r.tags_written();
            // A metric alarm's state after its create is known without a read, but for its ARN
            // (from the account) and its creation time (from the Put's round trip, when that
            // stayed within one second).
            let known = if K::READ_AFTER_CREATE {
                None
            } else {
                reader
                    .arn_of(location, name)
                    .and_then(|arn| live::created(Some(arn), sent, answered))
            };
            let (created, live) = match known {
                Some(live) => {
                    reader.wrote(location, name, Wrote::Put);
                    (None, live)
                }
                None => {
                    let created = match reader.describe_after_write(location, name).await {
                        Ok(Some(record)) => K::own(record).ok(),
                        _ => None,
                    };
                    let live = match &created {
                        Some(record) => K::live(record),
                        // Unread: what a new alarm is, without the times only a read tells.
                        None => live::new_alarm(None),
                    };
                    (created, live)
                }
            };
            let status = K::alarm_status(r, created.as_ref(), &live, &prepared);
            Ok(Applied::new(status, r.matches_spec()).notices([r.created(K::PUT)]))
        }
        Step::Sync {
            record,
            observed_tags: _,
            adopted,
            update,
            missing_children,
        } => {
            let live = K::live(&record);
            let status = K::alarm_status(r, Some(&record), &live, &prepared);
            let mut notices: Vec<Notice> = state_change_notice(&live).into_iter().collect();
            notices.extend(adopted);
            if !update.fields.is_empty() {
                if !missing_children.is_empty() {
                    return Err(children_missing(location, &missing_children));
                }
                K::put(r, &desired, None).await?;
                reader.wrote(location, name, Wrote::Put);
                notices.push(r.changed(K::PUT, &update.fields));
            }
            if !update.tags.is_empty() {
                let arn = K::arn(&record).unwrap_or_default();
                cloudwatch_tags::apply(&r.ctx.aws, location, arn, &update.tags).await?;
                notices.extend(r.tags_changed("TagResource", &update.tags));
            }
            Ok(Applied::new(status, r.matches_spec()).notices(notices))
        }
    }
}

/// What `apply` would do, described (see [`crate::runtime::preview`]). Children a composite
/// waits for are not worth a note when the manifests planned together declare them: the same
/// apply creates them first.
pub async fn preview<K: AlarmKind>(obj: &K, r: &Reconcile<'_, K>) -> Result<Preview> {
    let Assessment { step, .. } = assess(obj, r).await?;
    let undeclared = |mut missing: Vec<String>| {
        missing.retain(|child| !dependents::declares(r.shared, &r.location, child));
        (!missing.is_empty()).then(|| children_missing(&r.location, &missing))
    };
    Ok(match step {
        Step::NotFound => Preview::observe_missing(r.not_found().message),
        Step::Observed { differences, .. } => Preview::observe(differences),
        Step::Create { missing_children } => {
            Preview::create().waiting_for(undeclared(missing_children).as_ref())
        }
        Step::Sync {
            observed_tags,
            adopted,
            update,
            missing_children,
            ..
        } => {
            let mut changes = update.changes;
            if let Some(tags) = &observed_tags {
                changes.extend(update.tags.user_changes(tags));
            }
            Preview::update(changes)
                .adopting(adopted.map(|n| n.note))
                .waiting_for(undeclared(missing_children).as_ref())
        }
    })
}

/// The wait while children a composite names do not exist in CloudWatch (PutCompositeAlarm
/// refuses a rule naming an alarm that does not exist).
fn children_missing(location: impl Display, missing: &[String]) -> Error {
    Error::dependency(format!(
        "waiting for child alarms to exist in CloudWatch ({location}): {}",
        missing.join(", ")
    ))
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
