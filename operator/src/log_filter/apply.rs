//! The reconcile path subscription filters and metric filters share. [`assess`] reads and
//! decides (steps 1 to 3), [`apply`] carries the decision out (step 4), and [`preview`] tells what
//! it would write (`plan`):
//! 1. the desired identity and filter from the spec (pure; a subscription resolves its
//!    destinationRef from the LogDestination cache first);
//! 2. the log group's filters through the kind's batched reader, one listing per log group
//!    (network); a missing log group is `DependencyNotReady`;
//! 3. ownership from this object's status record and the other objects' records of its kind
//!    (pure, from the controller's cache), the plan (pure) and, for a create, the kind's check
//!    that the log group has room (pure);
//! 4. as planned: the Delete of the filter under its previous identity (network), a status write
//!    recording the filter as this object's before it is created (Kubernetes), the Put (network)
//!    — nothing at all when the plan is empty; a created filter is read back for its creation
//!    time, once the other creates planned on its log group have sent their Puts (one listing
//!    for all of them);
//! 5. status (pure); the runtime writes it only if it changed.
//!
//! cleanup: the Delete of the filter this object's status records as its own, unless another
//! object's claim on it now takes precedence (its success, or "not found", means the filter is
//! gone: no read before or after).

use super::desired::{Desired, FilterKey};
use super::ownership::{
    Decision, FilterOwnership, OwnershipOrigin, outranked_by, own_record, ownership_decision,
};
use super::plan::{Change, FilterPlan, plan};
use super::status::{self, FilterStatus, Seen};
use crate::aws::Location;
use crate::aws::api::Api;
use crate::aws::log_group_reader::{Creating, LogGroupItem, LogGroupReader, Pending};
use crate::conditions::Verdict;
use crate::error::{Error, Result};
use crate::field_diff::{FieldChange, changed_fields, changes};
use crate::preview::Preview;
use crate::reason::Reason;
use crate::runtime::notices::Subject;
use crate::runtime::{Applied, Failed, ManagedKind, Notice, Reconcile, awaits_reconcile};
use crate::vocabulary::EventReason;
use aws_sdk_cloudwatchlogs::Client;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use kube::ResourceExt;
use kube::runtime::reflector::Store;
use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

/// What [`apply`] returns.
pub type Outcome<K> =
    Result<Applied<<K as ManagedKind>::Status>, Failed<<K as ManagedKind>::Status>>;

/// What the kind keeps in status besides the ownership record and the creation time.
pub type Own<K> = <<K as ManagedKind>::Status as FilterStatus>::Own;

/// What is its own to each kind of CloudWatch Logs filter along the shared path.
pub trait LogFilterKind: ManagedKind<Status: FilterStatus> {
    /// The filter as the kind's Describe call lists it.
    type Record: LogGroupItem;
    /// Everything the Put sets besides the identity, in a normal form both the spec and AWS's
    /// answer map to. Serialized with the spec's field names, so differences are reported as the
    /// user writes them.
    type Config: Clone + Serialize + PartialEq + Send + Sync;
    /// The kind of filter in words (`subscription filter`), as a [`FilterKey`] names it.
    const NOUN: &'static str;
    /// The Put and the Delete: the calls the shared path sends (each through the rate limit of
    /// its API), named in Events by their operation.
    const PUT: Api;
    const DELETE: Api;
    /// The errors of the Put and of the Delete, as the SDK reports them.
    type PutError: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static;
    type DeleteError: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static;
    /// Why a filter moving to another log group is deleted before it is created, for `plan`.
    const MOVE: &'static str;

    /// The batched reader of the log groups' filters.
    fn reader(shared: &Self::Shared) -> &LogGroupReader<Self::Record>;

    /// Every object of the kind (the controller's own cache): their status records which
    /// filters they own.
    fn objects(shared: &Self::Shared) -> &Store<Self>;

    /// The log group the spec names.
    fn log_group(&self) -> &str;

    /// The filter's name, as AWS lists it.
    fn record_name(record: &Self::Record) -> Option<&str>;

    /// The log group that holds the filter, as AWS lists it.
    fn record_log_group(record: &Self::Record) -> Option<&str>;

    /// When AWS created the filter, in milliseconds.
    fn created_millis(record: &Self::Record) -> Option<i64>;

    /// The filter's configuration as AWS reports it.
    fn observed(record: &Self::Record) -> Self::Config;

    /// The desired filter.
    fn desired_filter(
        &self,
        r: &Reconcile<'_, Self>,
    ) -> impl Future<Output = Result<Desired<Self::Config>>> + Send;

    /// Whether the log group, listed as `filters`, has room for the filter `key` that is about to
    /// be created (`leaving`: a filter this reconcile deletes first). Checked before the old
    /// filter is deleted, so a move that cannot complete leaves the filter where it was.
    fn room_for(
        _r: &Reconcile<'_, Self>,
        _filters: &[Self::Record],
        _key: &FilterKey,
        _leaving: Option<&FilterKey>,
    ) -> Result<()> {
        Ok(())
    }

    /// The Put of `d` through `client`: the kind's SDK call with its fields.
    fn put(
        client: &Client,
        d: &Desired<Self::Config>,
    ) -> impl Future<Output = Sent<Self::PutError>> + Send;

    /// The Delete of the filter `key` through `client`.
    fn delete(
        client: &Client,
        key: &FilterKey,
    ) -> impl Future<Output = Sent<Self::DeleteError>> + Send;

    /// The status recorded before the filter is created: the status from before (`previous`)
    /// with the ownership `record`, and what the kind keeps (`own`, worked out by this reconcile).
    fn intent(
        previous: Option<&Self::Status>,
        record: FilterOwnership,
        own: &Own<Self>,
    ) -> Self::Status;

    /// Turns a failed Put into the failure to report, with the status it must keep: the intent
    /// recorded before a create is withdrawn only on an answer that proves nothing was created.
    fn put_failed(
        r: &Reconcile<'_, Self>,
        e: Error,
        put: PutFailure<'_, Self>,
    ) -> Failed<Self::Status>;
}

/// Implements, inside a kind's `impl LogFilterKind`, what every filter kind writes alike: its
/// `Record` is `$record` (the SDK's filter type, which has `filter_name()`, `log_group_name()`
/// and `creation_time()`), its `Shared` holds the batched reader in `filters` and its cache in
/// `objects`, its spec names the log group in `log_group_name`, and its module's
/// `observed::observed` normalises a record.
#[macro_export]
macro_rules! log_filter_accessors {
    ($record:ty) => {
        type Record = $record;

        fn reader(
            shared: &Self::Shared,
        ) -> &$crate::aws::log_group_reader::LogGroupReader<$record> {
            &shared.filters
        }

        fn objects(shared: &Self::Shared) -> &kube::runtime::reflector::Store<Self> {
            &shared.objects
        }

        fn log_group(&self) -> &str {
            &self.spec.log_group_name
        }

        fn record_name(record: &$record) -> Option<&str> {
            record.filter_name()
        }

        fn record_log_group(record: &$record) -> Option<&str> {
            record.log_group_name()
        }

        fn created_millis(record: &$record) -> Option<i64> {
            record.creation_time()
        }

        fn observed(record: &$record) -> Self::Config {
            super::observed::observed(record)
        }
    };
}

/// A Put's or a Delete's answer: it carries nothing the path uses.
pub type Sent<E> = std::result::Result<(), SdkError<E, HttpResponse>>;

/// What a failed Put is judged against.
pub struct PutFailure<'a, K: LogFilterKind> {
    pub d: &'a Desired<K::Config>,
    /// The ownership record the Put was for.
    pub record: FilterOwnership,
    /// Every filter of the log group, as listed before the Put.
    pub filters: &'a [K::Record],
    pub plan: &'a FilterPlan,
    pub location: &'a Location,
    /// What the kind keeps in status, as this reconcile worked it out.
    pub own: Own<K>,
}

/// The filter named exactly `name` among a log group's filters: the Describe calls match
/// `filterNamePrefix` as a prefix, so a filter is picked out by comparing its whole name.
pub fn find<'a, K: LogFilterKind>(filters: &'a [K::Record], name: &str) -> Option<&'a K::Record> {
    filters.iter().find(|f| K::record_name(f) == Some(name))
}

/// Reads the log groups of `objects` ahead of their drift-resync reconciles, one listing per log
/// group (the kind's `prefetch`). Errors are left to the reconciles, which read again.
pub async fn prefetch<K: LogFilterKind>(
    shared: &K::Shared,
    location: &Location,
    objects: &[Arc<K>],
) {
    let mut uses: BTreeMap<String, usize> = BTreeMap::new();
    for o in objects {
        *uses.entry(o.log_group().to_string()).or_default() += 1;
    }
    if let Err(e) = K::reader(shared).prefetch(location, &uses).await {
        tracing::debug!(error = %e, "prefetching {}s failed", K::NOUN);
    }
}

/// How many of `objects` name a log group and await their reconcile (see
/// [`LogGroupReader::expect`]): the listing read after a create there is kept for them.
pub fn pending_on<K: LogFilterKind>(objects: Store<K>) -> Pending {
    Box::new(move |group| {
        objects
            .state()
            .iter()
            .filter(|o| o.log_group() == group && awaits_reconcile(&***o))
            .count()
    })
}

/// What a reconcile of a filter found in AWS and decided, before it writes anything. `apply`
/// carries it out; `plan` describes it.
struct Assessment<K: LogFilterKind> {
    d: Desired<K::Config>,
    step: Step<K>,
}

/// What the reconcile does next.
enum Step<K: LogFilterKind> {
    /// The log group does not exist. Under ObserveOnly that is reported; otherwise the filter
    /// waits for it, and `plan` is what would be done then.
    LogGroupMissing { plan: FilterPlan },
    /// ObserveOnly: the filter found, if any.
    Observed { found: Option<K::Record> },
    /// Another object's claim on the filter outranks this one's: it is given up.
    Yield { message: String },
    /// This object manages the filter.
    Manage(Box<Managed<K>>),
}

/// A filter this object manages (`adopted`: it takes it over now), and the plan that makes AWS
/// match.
struct Managed<K: LogFilterKind> {
    /// Every filter of the log group.
    filters: Vec<K::Record>,
    found: Option<K::Record>,
    /// The ownership record to keep.
    record: FilterOwnership,
    /// The origin of this object's own ownership record, if it had one.
    recorded: Option<OwnershipOrigin>,
    adopted: Option<Notice>,
    plan: FilterPlan,
    /// Held from the read that planned a create until its Put has been sent.
    creating: Option<Creating>,
}

/// Marks a reconcile of `obj` that may create its filter, from its start until it has planned
/// the create or decided against one (see [`LogGroupReader::creating`]): the reads after the
/// other creates on its log group wait for it, so that they share one listing instead of one
/// each. Take it before anything the reconcile waits for (a metric filter's tests), and hand it
/// to [`apply`], which drops it once the plan is made.
pub fn deciding<K: LogFilterKind>(obj: &K, r: &Reconcile<'_, K>) -> Creating {
    K::reader(r.shared).creating(&r.location, obj.log_group())
}

/// Steps 1 to 3 of the module, up to the writes. `deciding` is dropped when they end.
async fn assess<K: LogFilterKind>(
    obj: &K,
    r: &Reconcile<'_, K>,
    deciding: Creating,
) -> Result<Assessment<K>> {
    let location = &r.location;
    let d = obj.desired_filter(r).await?;
    let owned = own_record(obj).map(|r| r.key(K::NOUN));
    let assessment = |step| Assessment { d: d.clone(), step };

    let Some(filters) = K::reader(r.shared)
        .filters(location, &d.key.log_group_name, &d.key.filter_name)
        .await?
    else {
        let plan = plan(&d.key, &d.config, owned.as_ref(), None);
        return Ok(assessment(Step::LogGroupMissing { plan }));
    };
    let found = find::<K>(&filters, &d.key.filter_name).cloned();
    if r.observe_only() {
        return Ok(assessment(Step::Observed { found }));
    }

    let objects = K::objects(r.shared).state();
    let (recorded, decision) = ownership_decision(
        obj,
        objects.iter().map(|o| o.as_ref()),
        location,
        &d.key,
        &r.what,
        found.is_some(),
    );
    let (origin, adopted) = match decision {
        Decision::Manage { origin, adopted } => (
            origin,
            adopted.map(|note| Notice::new(EventReason::Adopted, K::PUT.operation(), note)),
        ),
        Decision::Yield { message } => return Ok(assessment(Step::Yield { message })),
        Decision::Refuse { message } => {
            return Err(Error::new(Reason::AlreadyExistsUnowned, message));
        }
    };
    let record = FilterOwnership {
        origin,
        owner_uid: obj.uid().unwrap_or_default(),
        log_group_name: d.key.log_group_name.clone(),
        filter_name: d.key.filter_name.clone(),
    };
    let observed = found.as_ref().map(K::observed);
    let plan = plan(&d.key, &d.config, owned.as_ref(), observed.as_ref());
    let creating = if plan.change == Some(Change::Create) {
        K::room_for(r, &filters, &d.key, plan.delete_old.as_ref())?;
        // The guard first: the reads after the other creates on the log group wait for this one
        // too, through the wait before a new object's first create (creates that reach AWS
        // apart would each read the log group after their Put).
        let creating = K::reader(r.shared).creating(location, &d.key.log_group_name);
        r.before_create().await?;
        Some(creating)
    } else {
        None
    };
    drop(deciding);
    Ok(assessment(Step::Manage(Box::new(Managed {
        filters,
        found,
        record,
        recorded,
        adopted,
        plan,
        creating,
    }))))
}

/// The wait while the log group does not exist.
fn log_group_missing(
    key: &FilterKey,
    location: &Location,
    what: &str,
    observe_only: bool,
) -> String {
    let missing = format!(
        "log group {:?} does not exist in {location}",
        key.log_group_name
    );
    if observe_only {
        format!("{missing}, so neither does {what}")
    } else {
        format!("{missing}; {what} is created once it exists")
    }
}

/// The shared `apply`: makes AWS hold the filter the spec describes. `own` is what the kind
/// keeps in status besides, as this reconcile worked it out (a metric filter's test results);
/// `deciding` is the guard [`deciding`] gave at the reconcile's start.
pub async fn apply<K: LogFilterKind>(
    obj: &K,
    r: &Reconcile<'_, K>,
    own: Own<K>,
    deciding: Creating,
) -> Outcome<K> {
    let location = &r.location;
    let what = r.what.as_str();
    let previous = r.previous();
    let Assessment { d, step } = assess(obj, r, deciding).await?;
    let Managed {
        filters,
        found,
        record,
        recorded,
        adopted,
        plan,
        creating,
    } = match step {
        Step::LogGroupMissing { .. } => {
            let message = log_group_missing(&d.key, location, what, r.observe_only());
            if r.observe_only() {
                let keep = Seen {
                    ownership: previous.and_then(|p| p.ownership().cloned()),
                    creation_time: None,
                    own,
                };
                return Ok(Applied::new(
                    status::status(&d.key, keep, previous),
                    Verdict::waiting(Reason::NotFound, message),
                ));
            }
            return Err(Error::dependency(message).into());
        }
        Step::Observed { found } => return Ok(observe(r, &d, found.as_ref(), own)),
        Step::Yield { message } => {
            // Drop the record, so that this object neither claims nor deletes the filter.
            let error = Error::new(Reason::AlreadyExistsUnowned, message);
            let seen = Seen {
                ownership: None,
                creation_time: None,
                own,
            };
            return Err(Failed::with_status(
                error,
                status::status(&d.key, seen, previous),
            ));
        }
        Step::Manage(managed) => *managed,
    };
    let mut notices: Vec<Notice> = adopted.into_iter().collect();
    if let Some(old) = &plan.delete_old
        && delete_owned(obj, r, old).await?
    {
        notices.push(Notice::new(
            EventReason::Replaced,
            K::DELETE.operation(),
            format!("deleted {old}, which this object owned, to replace it with {what}"),
        ));
    }

    let mut read_back = None;
    if let Some(change) = &plan.change {
        if *change == Change::Create {
            // Filters carry no tags: if the process stopped between the Put and the status
            // write, nothing else would tell this object's filter from someone else's, and the
            // restarted operator would refuse its own filter (or, under adoption, take it over
            // as a stranger's). So the ownership record is written first.
            r.record_intent(K::intent(previous, record.clone(), &own))
                .await?;
        }
        let client = &r.ctx.aws.clients(location).logs;
        // Before and after: no listing read before the Put's answer is handed to this filter's
        // reconciles again.
        let reader = K::reader(r.shared);
        reader.wrote(location, &d.key.log_group_name, &d.key.filter_name);
        let result = r.ctx.aws.call(location, K::PUT, K::put(client, &d)).await;
        reader.wrote(location, &d.key.log_group_name, &d.key.filter_name);
        drop(creating);
        if let Err(e) = result {
            let put = PutFailure {
                d: &d,
                record,
                filters: &filters,
                plan: &plan,
                location,
                own,
            };
            return Err(K::put_failed(r, e, put).notices(notices));
        }
        // Managed before only if the ownership record was this object's already.
        let subject = Subject {
            confirmed: r.confirmed && recorded.is_some(),
            ..r.subject()
        };
        notices.push(match change {
            Change::Create => subject.created(K::PUT.operation()),
            Change::Update { fields } => subject.changed(K::PUT.operation(), fields),
        });
        if *change == Change::Create {
            // Only for the creation time in status; a failed read leaves it for the next resync.
            // Shared with the other creates on the log group that are sending their Puts.
            read_back = K::reader(r.shared)
                .filters_after_create(location, &d.key.log_group_name)
                .await
                .ok()
                .flatten();
        }
    }

    let current = read_back
        .as_deref()
        .and_then(|fs| find::<K>(fs, &d.key.filter_name))
        .or(found.as_ref());
    let seen = Seen {
        ownership: Some(record),
        creation_time: status::creation_time(current.and_then(K::created_millis)),
        own,
    };
    Ok(Applied::new(status::status(&d.key, seen, previous), r.matches_spec()).notices(notices))
}

/// What `apply` would do, described (see [`crate::runtime::preview`]).
pub async fn preview<K: LogFilterKind>(obj: &K, r: &Reconcile<'_, K>) -> Result<Preview> {
    let Assessment { d, step } = assess(obj, r, deciding(obj, r)).await?;
    Ok(match step {
        Step::LogGroupMissing { plan } => {
            let message = log_group_missing(&d.key, &r.location, &r.what, r.observe_only());
            if r.observe_only() {
                Preview::observe_missing(message)
            } else {
                planned::<K>(&d.key, &plan).waiting_for(Some(&Error::dependency(message)))
            }
        }
        Step::Observed { found: None } => Preview::observe_missing(r.not_found().message),
        Step::Observed { found: Some(f) } => Preview::observe(changes(&d.config, &K::observed(&f))),
        Step::Yield { message } => {
            Preview::from_error(&Error::new(Reason::AlreadyExistsUnowned, message))
        }
        Step::Manage(managed) => {
            let Managed { adopted, plan, .. } = *managed;
            planned::<K>(&d.key, &plan).adopting(adopted.map(|n| n.note))
        }
    })
}

/// The writes of `plan` for the filter `key`, described.
fn planned<K: LogFilterKind>(key: &FilterKey, plan: &FilterPlan) -> Preview {
    let Some(old) = &plan.delete_old else {
        return match plan.change {
            Some(Change::Create) => Preview::create(),
            _ => Preview::update(plan.changes.clone()),
        };
    };
    let moved = |field: &str, old: &str, new: &str| {
        (old != new).then(|| FieldChange {
            field: field.to_string(),
            old: Some(old.into()),
            new: Some(new.into()),
        })
    };
    let mut changes: Vec<FieldChange> = [
        moved("filterName", &old.filter_name, &key.filter_name),
        moved("logGroupName", &old.log_group_name, &key.log_group_name),
    ]
    .into_iter()
    .flatten()
    .collect();
    changes.extend(plan.changes.iter().cloned());
    Preview::replace(
        changes,
        format!("{old} is deleted first, then {key} is created: {}", K::MOVE),
    )
}

/// ObserveOnly: report the filter and how it differs from the spec; never write.
fn observe<K: LogFilterKind>(
    r: &Reconcile<'_, K>,
    d: &Desired<K::Config>,
    found: Option<&K::Record>,
    own: Own<K>,
) -> Applied<K::Status> {
    let previous = r.previous();
    let seen = Seen {
        ownership: previous.and_then(|p| p.ownership().cloned()),
        creation_time: status::creation_time(found.and_then(K::created_millis)),
        own,
    };
    let verdict = match found {
        None => r.not_found(),
        Some(f) => r.observed(&changed_fields(&d.config, &K::observed(f))),
    };
    Applied::new(status::status(&d.key, seen, previous), verdict)
}

/// Deletes `key`, a filter this object's status records as its own, unless another object's
/// claim on it now takes precedence. A filter (or log group) already gone counts as deleted.
/// Returns whether a delete was sent.
async fn delete_owned<K: LogFilterKind>(
    obj: &K,
    r: &Reconcile<'_, K>,
    key: &FilterKey,
) -> Result<bool> {
    let location = &r.location;
    let objects = K::objects(r.shared).state();
    if let Some(winner) = outranked_by(obj, objects.iter().map(|o| o.as_ref()), location, key) {
        tracing::info!(filter = %key, owner = %winner.object, "not deleting a filter another object now manages");
        return Ok(false);
    }
    let client = &r.ctx.aws.clients(location).logs;
    let reader = K::reader(r.shared);
    reader.wrote(location, &key.log_group_name, &key.filter_name);
    let result = r
        .ctx
        .aws
        .call(location, K::DELETE, K::delete(client, key))
        .await;
    reader.wrote(location, &key.log_group_name, &key.filter_name);
    match result {
        Ok(()) => Ok(true),
        Err(e) if e.reason == Reason::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// The shared `cleanup`: deletes the filter this object recorded as its own; one it never created
/// or adopted stays. The Delete's success means the filter is gone: no read follows.
pub async fn cleanup<K: LogFilterKind>(obj: &K, r: &Reconcile<'_, K>) -> Result<()> {
    let Some(key) = own_record(obj).map(|r| r.key(K::NOUN)) else {
        return Ok(());
    };
    delete_owned(obj, r, &key).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_filter::status::creation_time;
    use crate::log_subscription::LogSubscription;
    use crate::metric_filter::MetricFilter;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use k8s_openapi::jiff::Timestamp;

    fn a_filter_is_found_by_its_whole_name_not_a_prefix_for<K: LogFilterKind>(
        named: impl Fn(&str) -> K::Record,
    ) {
        let filters = vec![named("errors-archive"), named("errors")];
        assert_eq!(
            find::<K>(&filters, "errors").and_then(|f| K::record_name(f)),
            Some("errors")
        );
        assert!(find::<K>(&filters[..1], "errors").is_none());
        assert!(find::<K>(&filters, "error").is_none());
    }

    #[test]
    fn a_filter_is_found_by_its_whole_name_not_a_prefix() {
        use aws_sdk_cloudwatchlogs::types as logs;
        a_filter_is_found_by_its_whole_name_not_a_prefix_for::<LogSubscription>(|name| {
            logs::SubscriptionFilter::builder()
                .filter_name(name)
                .build()
        });
        a_filter_is_found_by_its_whole_name_not_a_prefix_for::<MetricFilter>(|name| {
            logs::MetricFilter::builder().filter_name(name).build()
        });
    }

    #[test]
    fn creation_time_has_whole_seconds() {
        use crate::log_subscription::desired::{desired as subscription, tests as subscriptions};
        use crate::metric_filter::desired::{desired as metric_filter, tests as metric_filters};
        let whole = Some(Time(Timestamp::from_second(1_700_000_000).unwrap()));
        let d = subscription(&subscriptions::firehose_spec(), "x");
        let f = subscriptions::aws_after_put(&subscriptions::request(&d));
        assert_eq!(creation_time(LogSubscription::created_millis(&f)), whole);
        let d = metric_filter(&metric_filters::errors_spec(), "x");
        let f = metric_filters::aws_after_put(&metric_filters::request(&d));
        assert_eq!(creation_time(MetricFilter::created_millis(&f)), whole);
    }
}
