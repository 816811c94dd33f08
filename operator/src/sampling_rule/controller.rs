//! The SamplingRule controller: the thin shell that runs the pure steps against X-Ray.
//!
//! apply:
//! 1. desired rule and tags from the spec (pure);
//! 2. the account and region's rules from the shared, single-flight GetSamplingRules listing (network; X-Ray
//!    has no call that reads one rule), and ListTagsForResource when ownership is unconfirmed,
//!    the spec changed, or the tag resync is due (network);
//! 3. ownership decision (pure), observed configuration (pure), plan (pure);
//! 4. CreateSamplingRule / UpdateSamplingRule / DeleteSamplingRule then CreateSamplingRule /
//!    TagResource / UntagResource as planned (network) — nothing when the plan is empty;
//! 5. status from the last record X-Ray returned (pure); the runtime writes it only if it changed.
//!
//! `assess` runs steps 1 to 3; `apply` carries out what it decided, and `plan` describes it
//! (`preview`).
//!
//! CreateSamplingRule is not an upsert, so a rule is created only when the listing does not have
//! it: after a crash between the create and the status write, the next reconcile finds the rule,
//! recognises its ownership tags and carries on, without a second create.
//!
//! cleanup: never for the `Default` rule (X-Ray cannot delete it); otherwise DeleteSamplingRule,
//! only for a rule this object owns (one never confirmed as its own is listed and its tags read
//! first). A rule already gone counts as deleted.

use super::desired::{
    DesiredRule, RuleFields, aws_name, create_request, desired, is_default_rule, update_request,
};
use super::diff::{RuleChange, RulePlan, plan};
use super::observed::{RuleLive, live, observed};
use super::spec::{SamplingRule, SamplingRuleStatus};
use super::status::{default_rule_missing, limit_message, status};
use crate::aws::api::Api;
use crate::aws::batch::Read;
use crate::aws::sampling_rules::{RuleLister, RuleListing};
use crate::aws::xray_tags;
use crate::conditions::Verdict;
use crate::error::{Error, Result};
use crate::field_diff::{FieldChange, changes, top_level_fields};
use crate::preview::Preview;
use crate::reason::Reason;
use crate::runtime::preview::Plannable;
use crate::runtime::{Applied, Failed, ManagedKind, Notice, Reconcile};
use crate::tags::{check_count, desired_tags};
use crate::vocabulary::EventReason;
use aws_sdk_xray::operation::create_sampling_rule::CreateSamplingRuleOutput;
use aws_sdk_xray::types::SamplingRuleRecord;
use kube::ResourceExt;
use std::collections::BTreeMap;
use std::sync::Arc;

impl ManagedKind for SamplingRule {
    const KIND: &'static str = "SamplingRule";
    type Status = SamplingRuleStatus;
    /// One shared, single-flight GetSamplingRules listing per account and region.
    type Shared = RuleLister;

    crate::common_field_accessors!(SamplingRuleStatus);

    fn aws_name(&self) -> String {
        aws_name(&self.spec, &self.name_any())
    }

    fn describe(&self) -> String {
        format!("sampling rule {:?}", self.aws_name())
    }

    async fn apply(
        &self,
        r: &Reconcile<'_, Self>,
    ) -> Result<Applied<SamplingRuleStatus>, Failed<SamplingRuleStatus>> {
        Ok(apply(self, r).await?)
    }

    async fn cleanup(&self, r: &Reconcile<'_, Self>) -> Result<()> {
        r.forget_tags();
        if is_default_rule(&r.name) {
            // The schema makes the Default rule's deletionPolicy Retain; this guards the rule
            // against a spec that reached the operator without that check.
            tracing::info!("not deleting X-Ray's Default rule: it cannot be deleted");
            return Ok(());
        }
        if !r.confirmed {
            // Never confirmed as this object's: only a rule that carries its owner tag goes. A
            // confirmed rule is deleted at once (a rule already gone counts as deleted). The
            // listing is a new one: a kept listing may predate a create this process did not
            // make, and finding the rule gone releases the object for good.
            let listing = r.shared.list(&r.location, Read::Fresh).await?;
            let Some(record) = listing.find(&r.name) else {
                return Ok(());
            };
            let arn = live(record).arn.unwrap_or_default();
            let tags = match xray_tags::list(&r.ctx.aws, &r.location, &arn).await {
                Ok(tags) => tags,
                Err(e) if e.reason == Reason::NotFound => return Ok(()),
                Err(e) => return Err(e),
            };
            if !r.owner.owns(&tags) {
                tracing::info!(rule = %r.name, "not deleting a sampling rule this object does not own");
                return Ok(());
            }
        }
        delete(r).await
    }
}

impl Plannable for SamplingRule {
    async fn preview(&self, r: &Reconcile<'_, Self>) -> Result<Preview> {
        preview(self, r).await
    }
}

/// What a reconcile of a rule found in X-Ray and decided, before it writes anything. `apply`
/// carries it out; `plan` describes it.
struct Assessment {
    desired: DesiredRule,
    want_tags: BTreeMap<String, String>,
    listing: Arc<RuleListing>,
    step: Step,
}

/// What the reconcile does next.
enum Step {
    /// The custom rule is not listed: create it with its tags.
    Create(RuleFields),
    /// The rule is not listed, and is only observed (ObserveOnly, or X-Ray's Default rule,
    /// which cannot be created): the verdict to report.
    Missing(Verdict),
    /// ObserveOnly: the rule, and how it differs from the spec.
    Observed {
        record: Box<SamplingRuleRecord>,
        differences: Vec<FieldChange>,
    },
    /// The rule exists and this object manages it.
    Manage(Box<Managed>),
}

/// An existing rule this object manages (`adopted`: it takes it over now), and the plan that
/// makes it match.
struct Managed {
    record: SamplingRuleRecord,
    /// The tags read, when they were due.
    observed_tags: Option<BTreeMap<String, String>>,
    adopted: Option<Notice>,
    plan: RulePlan,
}

/// Steps 1 to 3 of the module, up to the writes.
async fn assess(rule: &SamplingRule, r: &Reconcile<'_, SamplingRule>) -> Result<Assessment> {
    let desired = desired(&rule.spec, &rule.name_any());
    let want_tags = desired_tags(&rule.spec.tags, &r.owner);
    if !r.observe_only() {
        check_count(&want_tags, &rule.spec.tags)?;
    }
    let listing = r.shared.list(&r.location, Read::Kept).await?;
    let record = listing.find(&r.name).cloned();
    let step = match record {
        None => match &desired {
            DesiredRule::Custom(fields) if !r.observe_only() => Step::Create(fields.clone()),
            DesiredRule::Custom(_) => Step::Missing(r.not_found()),
            DesiredRule::Default(_) => Step::Missing(Verdict::waiting(
                Reason::NotFound,
                default_rule_missing(&r.region),
            )),
        },
        Some(record) if r.observe_only() => {
            let observed = observed(rule_of(&record, &r.what)?);
            Step::Observed {
                differences: changes(&desired.expected(&observed), &observed),
                record: Box::new(record),
            }
        }
        Some(record) => Step::Manage(Box::new(decide(r, record, &desired, &want_tags).await?)),
    };
    Ok(Assessment {
        desired,
        want_tags,
        listing,
        step,
    })
}

/// The ownership decision and the plan for an existing rule this object may manage.
async fn decide(
    r: &Reconcile<'_, SamplingRule>,
    record: SamplingRuleRecord,
    desired: &DesiredRule,
    want_tags: &BTreeMap<String, String>,
) -> Result<Managed> {
    let observed = observed(rule_of(&record, &r.what)?);
    let arn = live(&record).arn.unwrap_or_default();
    let observed_tags = if r.tags_due() {
        Some(xray_tags::list(&r.ctx.aws, &r.location, &arn).await?)
    } else {
        None
    };
    let adopted = match &observed_tags {
        Some(tags) => r.gate(tags)?,
        None => None,
    };
    let plan = plan(desired, &observed, want_tags, observed_tags.as_ref());
    Ok(Managed {
        record,
        observed_tags,
        adopted,
        plan,
    })
}

async fn apply(
    rule: &SamplingRule,
    r: &Reconcile<'_, SamplingRule>,
) -> Result<Applied<SamplingRuleStatus>> {
    let Assessment {
        desired,
        want_tags,
        listing,
        step,
    } = assess(rule, r).await?;
    match step {
        Step::Create(fields) => create(r, &fields, &want_tags, &listing, &desired).await,
        Step::Missing(verdict) => Ok(Applied::new(rule_status(r, &RuleLive::default()), verdict)),
        Step::Observed {
            record,
            differences,
        } => Ok(Applied::new(
            rule_status(r, &live(&record)),
            r.observed(&top_level_fields(&differences)),
        )),
        Step::Manage(managed) => manage(r, *managed, &desired, &want_tags).await,
    }
}

/// What `apply` would do, described (see [`crate::runtime::preview`]).
async fn preview(rule: &SamplingRule, r: &Reconcile<'_, SamplingRule>) -> Result<Preview> {
    let Assessment { step, .. } = assess(rule, r).await?;
    Ok(match step {
        Step::Create(_) => Preview::create(),
        Step::Missing(verdict) => Preview::observe_missing(verdict.message),
        Step::Observed { differences, .. } => Preview::observe(differences),
        Step::Manage(managed) => {
            let Managed {
                observed_tags,
                adopted,
                plan,
                ..
            } = *managed;
            let mut changes = plan.changes;
            if let Some(tags) = &observed_tags {
                changes.extend(plan.tags.user_changes(tags));
            }
            let preview = match plan.change {
                Some(RuleChange::Replace { .. }) => Preview::replace(changes, REPLACE_WHY),
                _ => Preview::update(changes),
            };
            preview.adopting(adopted.map(|n| n.note))
        }
    })
}

/// Why a rule is deleted and created again rather than updated.
const REPLACE_WHY: &str =
    "X-Ray cannot remove a rate boost or change the version of an existing rule";

fn rule_status(r: &Reconcile<'_, SamplingRule>, live: &RuleLive) -> SamplingRuleStatus {
    status(&r.name, live, r.previous())
}

/// Creates the custom rule the listing does not have, with its tags.
async fn create(
    r: &Reconcile<'_, SamplingRule>,
    fields: &RuleFields,
    want_tags: &BTreeMap<String, String>,
    listing: &RuleListing,
    desired: &DesiredRule,
) -> Result<Applied<SamplingRuleStatus>> {
    let out = match create_rule(r, fields, want_tags).await {
        Ok(out) => out,
        Err(e) if e.reason == Reason::LimitExceeded => {
            return Err(Error {
                message: limit_message(&r.what, &r.region, listing.custom_count()),
                ..e
            });
        }
        Err(e) if e.reason == Reason::InvalidSpec => {
            // X-Ray refuses a name that exists. The rule may have been created since the
            // listing (by another cluster, or by hand): if so, ownership decides.
            let fresh = r.shared.list(&r.location, Read::Kept).await?;
            return match fresh.find(&r.name).cloned() {
                Some(record) => {
                    let managed = decide(r, record, desired, want_tags).await?;
                    manage(r, managed, desired, want_tags).await
                }
                None => Err(e),
            };
        }
        Err(e) => return Err(e),
    };
    r.tags_written();
    let live = out.sampling_rule_record().map(live).unwrap_or_default();
    Ok(Applied::new(rule_status(r, &live), r.matches_spec())
        .notices([r.created("CreateSamplingRule")]))
}

/// Carries out `plan` on an existing rule this object manages.
async fn manage(
    r: &Reconcile<'_, SamplingRule>,
    managed: Managed,
    desired: &DesiredRule,
    want_tags: &BTreeMap<String, String>,
) -> Result<Applied<SamplingRuleStatus>> {
    let Managed {
        record,
        adopted,
        plan,
        ..
    } = managed;
    let mut live = live(&record);
    let arn = live.arn.clone().unwrap_or_default();
    let mut notices: Vec<Notice> = adopted.into_iter().collect();
    match &plan.change {
        None => {}
        Some(RuleChange::Update { fields }) => {
            let client = &r.ctx.aws.clients(&r.location).xray;
            let request = update_request(client.update_sampling_rule(), &r.name, desired);
            let out = r
                .ctx
                .aws
                .call(&r.location, Api::UpdateSamplingRule, request.send())
                .await;
            r.shared.invalidate(&r.location);
            if let Some(record) = out?.sampling_rule_record() {
                live = super::observed::live(record);
            }
            notices.push(r.changed("UpdateSamplingRule", fields));
        }
        Some(RuleChange::Replace { fields, with }) => {
            live = replace(r, with, want_tags).await?;
            notices.push(replace_notice(r.drift(), &r.what, fields));
        }
    }
    if !plan.tags.is_empty() {
        xray_tags::apply(&r.ctx.aws, &r.location, &arn, &plan.tags).await?;
        notices.extend(r.tags_changed("TagResource", &plan.tags));
    }
    Ok(Applied::new(rule_status(r, &live), r.matches_spec()).notices(notices))
}

/// Deletes the rule and creates it again as `with` (for what UpdateSamplingRule cannot change).
/// A crash in between leaves no rule, which the next reconcile creates. The wait before a
/// create (`Reconcile::before_create`) comes before the delete: the rule is gone only for the
/// round trip between the two calls.
async fn replace(
    r: &Reconcile<'_, SamplingRule>,
    with: &RuleFields,
    want_tags: &BTreeMap<String, String>,
) -> Result<RuleLive> {
    r.before_create().await?;
    delete(r).await?;
    let out = create_rule(r, with, want_tags).await?;
    Ok(out.sampling_rule_record().map(live).unwrap_or_default())
}

/// CreateSamplingRule with the tags; the shared listing is stale after it, whatever it answered.
async fn create_rule(
    r: &Reconcile<'_, SamplingRule>,
    fields: &RuleFields,
    want_tags: &BTreeMap<String, String>,
) -> Result<CreateSamplingRuleOutput> {
    r.before_create().await?;
    let client = &r.ctx.aws.clients(&r.location).xray;
    let request = create_request(
        client.create_sampling_rule(),
        &r.name,
        fields,
        xray_tags::sdk_tags(want_tags)?,
    );
    let out = r
        .ctx
        .aws
        .call(&r.location, Api::CreateSamplingRule, request.send())
        .await;
    r.shared.invalidate(&r.location);
    out
}

/// DeleteSamplingRule by name; a rule already gone counts as deleted.
async fn delete(r: &Reconcile<'_, SamplingRule>) -> Result<()> {
    let client = &r.ctx.aws.clients(&r.location).xray;
    let request = client.delete_sampling_rule().rule_name(&r.name).send();
    let result = r
        .ctx
        .aws
        .call(&r.location, Api::DeleteSamplingRule, request)
        .await;
    r.shared.invalidate(&r.location);
    match result {
        Ok(_) => Ok(()),
        // X-Ray answers InvalidRequestException for a rule that does not exist.
        Err(e) if e.reason == Reason::InvalidSpec => {
            let fresh = r.shared.list(&r.location, Read::Kept).await?;
            match fresh.find(&r.name) {
                None => Ok(()),
                Some(_) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// The rule inside a listed record (X-Ray always sends it).
fn rule_of<'r>(
    record: &'r SamplingRuleRecord,
    what: &str,
) -> Result<&'r aws_sdk_xray::types::SamplingRule> {
    record.sampling_rule.as_ref().ok_or_else(|| {
        Error::new(
            Reason::AwsUnavailable,
            format!("GetSamplingRules listed {what} without its configuration"),
        )
    })
}

/// The Event for a replacement.
fn replace_notice(drift: bool, what: &str, fields: &[String]) -> Notice {
    let why = format!(
        "{what} was deleted and created again to change {}: X-Ray cannot remove a rate boost or \
         change the version of an existing rule",
        fields.join(", ")
    );
    if drift {
        Notice::new(
            EventReason::DriftCorrected,
            "CreateSamplingRule",
            format!("put back a change made outside the operator: {why}"),
        )
    } else {
        Notice::new(EventReason::Replaced, "CreateSamplingRule", why)
    }
}
