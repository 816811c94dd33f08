//! The LogDestination controller: the thin shell that runs the pure steps against AWS.
//!
//! apply:
//! 1. desired destination, access policy and tags from the spec (pure);
//! 2. the destination through the batched DescribeDestinations reader (network), and
//!    ListTagsForResource when ownership is unconfirmed, the spec changed, or the tag resync is
//!    due (network);
//! 3. ownership decision (pure); under ObserveOnly, a report of the differences and stop here;
//! 4. plan (pure); PutDestination (with the tags when it creates), PutDestinationPolicy with the
//!    policy for the destination's ARN, TagResource / UntagResource as planned (network) —
//!    nothing when the plan is empty;
//! 5. status from what AWS reported (pure); the runtime writes it only if it changed.
//!
//! `assess` runs steps 1 to 4 up to the writes; `apply` carries out what it decided, and `plan`
//! describes it (`preview`).
//!
//! A destination carries the ownership tags from its create, so a crash between PutDestination
//! and the status write leaves a destination the next reconcile recognises as its own (and puts
//! the policy it may lack).
//!
//! cleanup: wait while a LogSubscription in the namespace still sends to this destination; then
//! DeleteDestination, only for a destination this object owns: one whose ownership an earlier
//! reconcile confirmed is deleted at once, any other is read (DescribeDestinations,
//! ListTagsForResource) first. A successful delete is not read back.

use super::LogDestinations;
use super::desired::{AccessPolicy, Desired, aws_name, desired, put_request};
use super::diff::{Change, DestinationPlan, plan};
use super::observed::{LiveDestination, live, observed};
use super::policy;
use super::spec::{LogDestination, LogDestinationStatus};
use super::status::status;
use crate::aws::Location;
use crate::aws::api::Api;
use crate::aws::batch::Read;
use crate::aws::logs_tags;
use crate::error::{Error, Result};
use crate::field_diff::{FieldChange, changes, top_level_fields};
use crate::preview::Preview;
use crate::reason::Reason;
use crate::runtime::preview::Plannable;
use crate::runtime::{Applied, Failed, ManagedKind, Notice, Reconcile};
use crate::tags::{check_count, desired_tags};
use aws_sdk_cloudwatchlogs::types::Destination;
use kube::ResourceExt;
use std::collections::BTreeMap;
use std::sync::Arc;

impl ManagedKind for LogDestination {
    const KIND: &'static str = "LogDestination";
    type Status = LogDestinationStatus;
    type Shared = LogDestinations;
    /// One DescribeDestinations listing serves a whole chunk.
    const RESYNC_CHUNK: usize = 100;

    crate::common_field_accessors!(LogDestinationStatus);

    fn aws_name(&self) -> String {
        aws_name(&self.spec, &self.name_any())
    }

    fn describe(&self) -> String {
        format!("log destination {:?}", self.aws_name())
    }

    async fn apply(
        &self,
        r: &Reconcile<'_, Self>,
    ) -> Result<Applied<LogDestinationStatus>, Failed<LogDestinationStatus>> {
        Ok(apply(self, r).await?)
    }

    async fn cleanup(&self, r: &Reconcile<'_, Self>) -> Result<()> {
        cleanup(self, r).await
    }

    async fn prefetch(shared: &LogDestinations, location: &Location, objects: &[Arc<Self>]) {
        let names: Vec<String> = objects.iter().map(|d| d.aws_name()).collect();
        if let Err(e) = shared.destinations.prefetch(location, &names).await {
            tracing::debug!(error = %e, "prefetching destinations failed");
        }
    }

    fn became_ready(&self, shared: &LogDestinations) {
        // Subscriptions waiting for this destination's ARN can go ahead now.
        shared
            .subscribers
            .wake(&self.namespace().unwrap_or_default(), &self.name_any());
    }
}

/// What a reconcile of a destination found in AWS and decided, before it writes anything.
/// `apply` carries it out; `plan` describes it.
struct Assessment {
    d: Desired,
    want_tags: BTreeMap<String, String>,
    step: Step,
}

/// What the reconcile does next.
enum Step {
    /// ObserveOnly, and no destination of that name exists.
    NotFound,
    /// ObserveOnly: the destination, and how it differs from the spec.
    Observed {
        existing: Box<Destination>,
        differences: Vec<FieldChange>,
    },
    /// The destination is created (`existing`: none) or this object manages it (`adopted`: it
    /// takes it over now); `plan` makes it match, with no write when it is empty.
    Manage {
        existing: Option<Box<Destination>>,
        /// The tags read, when they were due.
        observed_tags: Option<BTreeMap<String, String>>,
        adopted: Option<Notice>,
        plan: DestinationPlan,
    },
}

/// Steps 1 to 4 of the module, up to the writes.
async fn assess(obj: &LogDestination, r: &Reconcile<'_, LogDestination>) -> Result<Assessment> {
    let location = &r.location;
    let d = desired(&obj.spec, &obj.name_any())?;
    let want_tags = desired_tags(&obj.spec.tags, &r.owner);
    if !r.observe_only() {
        check_count(&want_tags, &obj.spec.tags)?;
    }
    let existing = r
        .shared
        .destinations
        .describe(location, &r.name, Read::Kept)
        .await?;

    if r.observe_only() {
        let step = match existing {
            None => Step::NotFound,
            Some(existing) => Step::Observed {
                differences: differences(&d, &existing, &want_tags),
                existing: Box::new(existing),
            },
        };
        return Ok(Assessment { d, want_tags, step });
    }

    let mut observed_tags = None;
    let mut adopted = None;
    if let Some(existing) = &existing {
        if r.tags_due() {
            let arn = existing.arn().unwrap_or_default();
            observed_tags = Some(logs_tags::list(&r.ctx.aws, location, arn).await?);
        }
        if let Some(tags) = &observed_tags {
            adopted = r.gate(tags)?;
        }
    }
    let observed_config = existing.as_ref().map(observed);
    let plan = plan(
        &d,
        existing
            .as_ref()
            .zip(observed_config.as_ref())
            .map(|(e, c)| (c, e.access_policy(), e.arn().unwrap_or_default())),
        &want_tags,
        observed_tags.as_ref(),
    );
    let step = Step::Manage {
        existing: existing.map(Box::new),
        observed_tags,
        adopted,
        plan,
    };
    Ok(Assessment { d, want_tags, step })
}

impl Plannable for LogDestination {
    async fn preview(&self, r: &Reconcile<'_, Self>) -> Result<Preview> {
        preview(self, r).await
    }
}

async fn apply(
    obj: &LogDestination,
    r: &Reconcile<'_, LogDestination>,
) -> Result<Applied<LogDestinationStatus>> {
    let location = &r.location;
    let name = r.name.as_str();
    let previous = r.previous();
    let Assessment { d, want_tags, step } = assess(obj, r).await?;
    let (existing, adopted, plan) = match step {
        Step::NotFound => {
            let status = status(name, &LiveDestination::default(), previous);
            return Ok(Applied::new(status, r.not_found()));
        }
        Step::Observed {
            existing,
            differences,
        } => {
            return Ok(Applied::new(
                status(name, &live(&existing), previous),
                r.observed(&top_level_fields(&differences)),
            ));
        }
        Step::Manage {
            existing,
            adopted,
            plan,
            ..
        } => (existing, adopted, plan),
    };

    let mut notices: Vec<Notice> = adopted.into_iter().collect();
    let mut current = existing.as_deref().map(live).unwrap_or_default();
    match &plan.change {
        None => {}
        Some(change) => {
            let tags = (*change == Change::Create).then_some(&want_tags);
            if tags.is_some() {
                r.before_create().await?;
            }
            if let Some(written) = put_destination(r, &d, tags).await? {
                current = live(&written);
            }
            notices.push(match change {
                Change::Create => {
                    r.tags_written();
                    r.created("PutDestination")
                }
                Change::Update { fields } => r.changed("PutDestination", fields),
            });
        }
    }
    let arn = match current.arn.clone() {
        Some(arn) => arn,
        None => read_arn(r, name).await?,
    };
    current.arn = Some(arn.clone());
    if plan.policy {
        let client = &r.ctx.aws.clients(location).logs;
        let request = client
            .put_destination_policy()
            .destination_name(name)
            .access_policy(d.access.document(&arn))
            .send();
        r.ctx
            .aws
            .call(location, Api::PutDestinationPolicy, request)
            .await?;
        r.shared.destinations.wrote(location, name);
        // A create's Event covers the policy that goes with it.
        if plan.change != Some(Change::Create) {
            notices.push(r.changed("PutDestinationPolicy", &["accessPolicy".to_string()]));
        }
    }
    if !plan.tags.is_empty() {
        logs_tags::apply(&r.ctx.aws, location, &arn, &plan.tags).await?;
        notices.extend(r.tags_changed("TagResource", &plan.tags));
    }
    Ok(Applied::new(status(name, &current, previous), r.matches_spec()).notices(notices))
}

/// What `apply` would do, described (see [`crate::runtime::preview`]).
async fn preview(obj: &LogDestination, r: &Reconcile<'_, LogDestination>) -> Result<Preview> {
    let Assessment { d, step, .. } = assess(obj, r).await?;
    Ok(match step {
        Step::NotFound => Preview::observe_missing(r.not_found().message),
        Step::Observed { differences, .. } => Preview::observe(differences),
        Step::Manage { existing: None, .. } => Preview::create(),
        Step::Manage {
            existing: Some(existing),
            observed_tags,
            adopted,
            plan,
        } => {
            let mut changes = plan.changes;
            if plan.policy {
                changes.push(policy_change(&d, &existing));
            }
            if let Some(tags) = &observed_tags {
                changes.extend(plan.tags.user_changes(tags));
            }
            Preview::update(changes).adopting(adopted.map(|n| n.note))
        }
    })
}

/// How the access policy of `existing` differs from the one `d` asks for, in the spec's terms:
/// the sender accounts, when both policies are the one `senderAccountIds` builds; else the
/// documents, each as JSON when it parses.
fn policy_change(d: &Desired, existing: &Destination) -> FieldChange {
    let arn = existing.arn().unwrap_or_default();
    let current = existing.access_policy().unwrap_or_default();
    if let (AccessPolicy::Senders(wanted), Some(found)) =
        (&d.access, policy::senders_of(current, arn))
    {
        let mut wanted = wanted.clone();
        wanted.sort();
        wanted.dedup();
        return FieldChange {
            field: "senderAccountIds".to_string(),
            old: Some(found.into()),
            new: Some(wanted.into()),
        };
    }
    let value = |document: &str| {
        serde_json::from_str(document).unwrap_or_else(|_| document.to_string().into())
    };
    FieldChange {
        field: "accessPolicy".to_string(),
        old: existing.access_policy().map(value),
        new: Some(value(&d.access.document(arn))),
    }
}

/// How the destination `existing` differs from `d` (ObserveOnly).
fn differences(
    d: &Desired,
    existing: &Destination,
    want_tags: &BTreeMap<String, String>,
) -> Vec<FieldChange> {
    let config = observed(existing);
    let mut differences = changes(&d.config, &config);
    let p = plan(
        d,
        Some((
            &config,
            existing.access_policy(),
            existing.arn().unwrap_or_default(),
        )),
        want_tags,
        None,
    );
    if p.policy {
        differences.push(policy_change(d, existing));
    }
    differences
}

/// What CloudWatch Logs says when it cannot deliver its test message to the target (compared
/// case-insensitively): the stream does not exist or is not ACTIVE yet, or the role cannot be
/// assumed yet.
const TEST_MESSAGE_FAILURE: &str = "could not deliver test message";

/// PutDestination (create, with `tags`, or update); returns the destination AWS reports. A
/// target CloudWatch Logs cannot deliver to yet is waited for, as a metric stream waits for its
/// delivery stream.
async fn put_destination(
    r: &Reconcile<'_, LogDestination>,
    d: &Desired,
    tags: Option<&BTreeMap<String, String>>,
) -> Result<Option<Destination>> {
    let location = &r.location;
    let client = &r.ctx.aws.clients(location).logs;
    let request = put_request(client.put_destination(), d, tags).send();
    let out = r.ctx.aws.call(location, Api::PutDestination, request).await;
    r.shared.destinations.wrote(location, &d.name);
    match out {
        Ok(out) => Ok(out.destination),
        Err(e) if e.message.to_lowercase().contains(TEST_MESSAGE_FAILURE) => {
            Err(Error::dependency(format!(
                "waiting for {} to accept CloudWatch Logs' test message (it must exist and be \
                 ACTIVE, and the role must let CloudWatch Logs write to it): {}",
                d.config.target_arn, e.message
            )))
        }
        Err(e) => Err(e),
    }
}

/// The ARN of the destination `name`, read back when a write did not report it.
async fn read_arn(r: &Reconcile<'_, LogDestination>, name: &str) -> Result<String> {
    r.shared
        .destinations
        .describe(&r.location, name, Read::Kept)
        .await?
        .and_then(|d| d.arn)
        .ok_or_else(|| {
            Error::new(
                Reason::AwsUnavailable,
                format!(
                    "DescribeDestinations reports no ARN for {}; reading again",
                    r.what
                ),
            )
        })
}

async fn cleanup(obj: &LogDestination, r: &Reconcile<'_, LogDestination>) -> Result<()> {
    // A subscription still sending here goes first. Before the subscriptions' cache holds its
    // first list, "none" proves nothing.
    let subscribers = &r.shared.subscribers;
    subscribers.synced().wait().await;
    let sending = subscribers.subscribing(&obj.namespace().unwrap_or_default(), &obj.name_any());
    if !sending.is_empty() {
        return Err(Error::dependency(format!(
            "{} is still the destination of LogSubscription {}; it is deleted once they no \
             longer name it in destinationRef",
            r.what,
            sending.join(", ")
        )));
    }
    r.forget_tags();
    let location = &r.location;
    if !r.confirmed {
        // Never confirmed as this object's: only a destination that carries its owner tag goes.
        let Some(existing) = r
            .shared
            .destinations
            .describe(location, &r.name, Read::Fresh)
            .await?
        else {
            tracing::debug!(destination = %r.name, "unconfirmed destination not found afresh: nothing to delete");
            return Ok(());
        };
        let arn = existing.arn().unwrap_or_default();
        let tags = match logs_tags::list(&r.ctx.aws, location, arn).await {
            Ok(tags) => tags,
            Err(e) if e.reason == Reason::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if !r.owner.owns(&tags) {
            tracing::info!(destination = %r.name, "not deleting a destination this object does not own");
            return Ok(());
        }
    }
    // DeleteDestination's success, or "not found", means the destination is gone: no read
    // before (for a confirmed owner) or after.
    let client = &r.ctx.aws.clients(location).logs;
    let request = client.delete_destination().destination_name(&r.name).send();
    let result = r
        .ctx
        .aws
        .call(location, Api::DeleteDestination, request)
        .await;
    r.shared.destinations.wrote(location, &r.name);
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.reason == Reason::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_destination::desired::tests::central_spec;

    const ARN: &str = "arn:aws:logs:us-east-1:123456789012:destination:central";

    fn existing(policy: &str) -> Destination {
        Destination::builder()
            .destination_name("central")
            .arn(ARN)
            .access_policy(policy)
            .build()
    }

    #[test]
    fn a_change_of_sender_accounts_is_told_as_the_accounts() {
        let d = desired(&central_spec(), "central").unwrap();
        let before = policy::for_senders(&["210987654321".to_string()], ARN);
        let change = policy_change(&d, &existing(&before));
        assert_eq!(change.field, "senderAccountIds");
        assert_eq!(change.old, Some(serde_json::json!(["210987654321"])));
        assert_eq!(change.new, Some(serde_json::json!(["123456789012"])));
    }

    #[test]
    fn a_policy_of_another_shape_is_told_as_the_documents() {
        let d = desired(&central_spec(), "central").unwrap();
        let other = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let change = policy_change(&d, &existing(other));
        assert_eq!(change.field, "accessPolicy");
        assert_eq!(
            change.old,
            Some(serde_json::json!({"Version":"2012-10-17","Statement":[]}))
        );
        let new = change.new.unwrap();
        assert_eq!(new["Statement"][0]["Resource"], ARN, "{new}");
    }
}
