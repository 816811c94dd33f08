//! The SamplingRule controller: the thin shell that runs the pure steps against X-Ray.
//!
//! apply:
//! 1. desired rule and tags from the spec (pure);
//! 2. the region's rules from the shared, single-flight GetSamplingRules listing (network; X-Ray
//!    has no call that reads one rule), and ListTagsForResource when ownership is unconfirmed,
//!    the spec changed, or the tag resync is due (network);
//! 3. ownership decision (pure), observed configuration (pure), plan (pure);
//! 4. CreateSamplingRule / UpdateSamplingRule / DeleteSamplingRule then CreateSamplingRule /
//!    TagResource / UntagResource as planned (network) — nothing when the plan is empty;
//! 5. status from the last record X-Ray returned (pure); the runtime writes it only if it changed.
//!
//! CreateSamplingRule is not an upsert, so a rule is created only when the listing does not have
//! it: after a crash between the create and the status write, the next reconcile finds the rule,
//! recognises its ownership tags and carries on, without a second create.
//!
//! cleanup: never for the `Default` rule (X-Ray cannot delete it); otherwise DeleteSamplingRule,
//! only for a rule this object owns. A rule already gone counts as deleted.

use super::desired::{
    DesiredRule, aws_name, create_request, desired, is_default_rule, update_request,
};
use super::diff::{RuleChange, plan};
use super::observed::{RuleLive, live, observed};
use super::spec::{SamplingRule, SamplingRuleStatus};
use super::status::{default_rule_missing, limit_message, status};
use crate::aws::api::Api;
use crate::aws::sampling_rules::RuleListing;
use crate::aws::xray_tags;
use crate::common_fields::ManagementPolicy;
use crate::conditions::Verdict;
use crate::error::{Error, Result};
use crate::field_diff::changed_fields;
use crate::ownership::{self, Owner};
use crate::reason::Reason;
use crate::runtime::context::Context;
use crate::runtime::lifecycle::{change_notice, observed_message, ownership_confirmed};
use crate::runtime::reconcile::object_key;
use crate::runtime::{Applied, ManagedKind, Notice};
use crate::tags::{check_count, desired_tags};
use aws_sdk_xray::types::SamplingRuleRecord;
use kube::ResourceExt;
use std::collections::BTreeMap;

impl ManagedKind for SamplingRule {
    const KIND: &'static str = "SamplingRule";
    type Status = SamplingRuleStatus;

    crate::common_field_accessors!(SamplingRuleStatus);

    async fn apply(&self, ctx: &Context, region: &str) -> Result<Applied<SamplingRuleStatus>> {
        Reconcile::new(self, ctx, region).apply().await
    }

    async fn cleanup(&self, ctx: &Context, region: &str) -> Result<()> {
        Reconcile::new(self, ctx, region).cleanup().await
    }
}

/// One reconcile of one SamplingRule: what every step needs.
struct Reconcile<'a> {
    rule: &'a SamplingRule,
    ctx: &'a Context,
    region: &'a str,
    /// Tag-read bookkeeping key.
    key: String,
    name: String,
    /// `sampling rule "name"`, for messages.
    what: String,
    desired: DesiredRule,
    owner: Owner,
    want_tags: BTreeMap<String, String>,
    /// An earlier reconcile reported the rule Ready as managed by this object.
    confirmed: bool,
}

impl<'a> Reconcile<'a> {
    fn new(rule: &'a SamplingRule, ctx: &'a Context, region: &'a str) -> Self {
        let name = aws_name(&rule.spec, &rule.name_any());
        let owner = ctx.owner(rule);
        Reconcile {
            key: format!("SamplingRule/{}", object_key(rule)),
            what: format!("sampling rule {name:?}"),
            desired: desired(&rule.spec, &rule.name_any()),
            want_tags: desired_tags(&rule.spec.tags, &owner),
            confirmed: ownership_confirmed(rule.status.as_ref().map(|s| &s.common), &name),
            owner,
            name,
            rule,
            ctx,
            region,
        }
    }

    fn previous(&self) -> Option<&'a SamplingRuleStatus> {
        self.rule.status.as_ref()
    }

    fn status(&self, live: &RuleLive) -> SamplingRuleStatus {
        status(&self.name, live, self.previous())
    }

    async fn apply(&self) -> Result<Applied<SamplingRuleStatus>> {
        let observe_only = self.rule.spec.common.management_policy == ManagementPolicy::ObserveOnly;
        if !observe_only {
            check_count(&self.want_tags, &self.rule.spec.tags)?;
        }
        let listing = self.ctx.sampling_rules.list(self.region).await?;
        let Some(record) = listing.find(&self.name).cloned() else {
            let reason = if is_default_rule(&self.name) {
                default_rule_missing(self.region)
            } else if observe_only {
                format!("{} does not exist in {}", self.what, self.region)
            } else {
                return self.create(&listing).await;
            };
            return Ok(Applied::new(
                self.status(&RuleLive::default()),
                Verdict::waiting(Reason::NotFound, reason),
            ));
        };
        if observe_only {
            return self.observe(&record);
        }
        self.manage(&record).await
    }

    /// ObserveOnly: report the rule and how it differs from the spec; never write.
    fn observe(&self, record: &SamplingRuleRecord) -> Result<Applied<SamplingRuleStatus>> {
        let observed = observed(rule_of(record, &self.what)?);
        let differences = changed_fields(&self.desired.expected(&observed), &observed);
        Ok(Applied::new(
            self.status(&live(record)),
            Verdict::ready(Reason::Observed, observed_message(&self.what, &differences)),
        ))
    }

    /// Creates the rule the listing does not have, with its tags.
    async fn create(&self, listing: &RuleListing) -> Result<Applied<SamplingRuleStatus>> {
        let DesiredRule::Custom(fields) = &self.desired else {
            unreachable!("a missing Default rule is reported, never created");
        };
        let client = &self.ctx.aws.clients(self.region).xray;
        let request = create_request(
            client.create_sampling_rule(),
            &self.name,
            fields,
            xray_tags::sdk_tags(&self.want_tags)?,
        );
        let result = self
            .ctx
            .aws
            .call(self.region, Api::CreateSamplingRule, request.send())
            .await;
        self.ctx.sampling_rules.invalidate(self.region);
        let out = match result {
            Ok(out) => out,
            Err(e) if e.reason == Reason::LimitExceeded => {
                return Err(Error {
                    message: limit_message(&self.what, self.region, listing.custom_count()),
                    ..e
                });
            }
            Err(e) if e.reason == Reason::InvalidSpec => {
                // X-Ray refuses a name that exists. The rule may have been created since the
                // listing (by another cluster, or by hand): if so, ownership decides.
                let fresh = self.ctx.sampling_rules.list(self.region).await?;
                return match fresh.find(&self.name).cloned() {
                    Some(record) => self.manage(&record).await,
                    None => Err(e),
                };
            }
            Err(e) => return Err(e),
        };
        self.ctx.tag_reads.due(&self.key, true);
        let live = out.sampling_rule_record().map(live).unwrap_or_default();
        let notice = if self.confirmed {
            Notice::warning(
                "Recreated",
                "CreateSamplingRule",
                format!(
                    "{} was deleted outside the operator and has been created again",
                    self.what
                ),
            )
        } else {
            Notice::normal(
                "Created",
                "CreateSamplingRule",
                format!("created {} in {}", self.what, self.region),
            )
        };
        // The same Ready message as a later reconcile that finds the rule unchanged, so that
        // reconcile (a restart's, say) has no status to rewrite; the Created event says more.
        Ok(Applied::new(
            self.status(&live),
            Verdict::ready(Reason::Available, format!("{} matches the spec", self.what)),
        )
        .notice(notice))
    }

    /// Makes an existing rule match the spec, once ownership allows it.
    async fn manage(&self, record: &SamplingRuleRecord) -> Result<Applied<SamplingRuleStatus>> {
        let observed = observed(rule_of(record, &self.what)?);
        let mut live = live(record);
        let mut notices = Vec::new();
        let spec_changed = self.previous().and_then(|p| p.common.observed_generation)
            != self.rule.metadata.generation;
        let arn = live.arn.clone().unwrap_or_default();
        let observed_tags = if self
            .ctx
            .tag_reads
            .due(&self.key, !self.confirmed || spec_changed)
        {
            Some(xray_tags::list(&self.ctx.aws, self.region, &arn).await?)
        } else {
            None
        };
        if let Some(tags) = &observed_tags
            && let Some(note) = ownership::gate(
                tags,
                &self.owner,
                self.rule.spec.common.adoption,
                &self.what,
            )?
        {
            notices.push(Notice::normal("Adopted", "TagResource", note));
        }

        let drift = self.confirmed && !spec_changed;
        let plan = plan(
            &self.desired,
            Some(&observed),
            &self.want_tags,
            observed_tags.as_ref(),
        );
        match &plan.change {
            None => {}
            Some(RuleChange::Update { fields }) => {
                let client = &self.ctx.aws.clients(self.region).xray;
                let request =
                    update_request(client.update_sampling_rule(), &self.name, &self.desired);
                let out = self
                    .ctx
                    .aws
                    .call(self.region, Api::UpdateSamplingRule, request.send())
                    .await;
                self.ctx.sampling_rules.invalidate(self.region);
                if let Some(record) = out?.sampling_rule_record() {
                    live = super::observed::live(record);
                }
                notices.push(change_notice(drift, "UpdateSamplingRule", fields));
            }
            Some(RuleChange::Replace { fields }) => {
                live = self.replace().await?;
                notices.push(replace_notice(drift, &self.what, fields));
            }
            Some(RuleChange::Create) => unreachable!("the rule exists"),
        }
        if !plan.tags.is_empty() {
            xray_tags::apply(&self.ctx.aws, self.region, &arn, &plan.tags).await?;
            let fields = plan.tags.drift_fields();
            if drift && !fields.is_empty() {
                notices.push(change_notice(true, "TagResource", &fields));
            }
        }
        Ok(Applied {
            status: self.status(&live),
            verdict: Verdict::ready(Reason::Available, format!("{} matches the spec", self.what)),
            notices,
        })
    }

    /// Deletes the rule and creates it again (for what UpdateSamplingRule cannot change). A crash
    /// in between leaves no rule, which the next reconcile creates.
    async fn replace(&self) -> Result<RuleLive> {
        let DesiredRule::Custom(fields) = &self.desired else {
            unreachable!("the Default rule is never replaced");
        };
        self.delete().await?;
        let client = &self.ctx.aws.clients(self.region).xray;
        let request = create_request(
            client.create_sampling_rule(),
            &self.name,
            fields,
            xray_tags::sdk_tags(&self.want_tags)?,
        );
        let out = self
            .ctx
            .aws
            .call(self.region, Api::CreateSamplingRule, request.send())
            .await;
        self.ctx.sampling_rules.invalidate(self.region);
        Ok(out?.sampling_rule_record().map(live).unwrap_or_default())
    }

    /// DeleteSamplingRule by name; a rule already gone counts as deleted.
    async fn delete(&self) -> Result<()> {
        let client = &self.ctx.aws.clients(self.region).xray;
        let request = client.delete_sampling_rule().rule_name(&self.name).send();
        let result = self
            .ctx
            .aws
            .call(self.region, Api::DeleteSamplingRule, request)
            .await;
        self.ctx.sampling_rules.invalidate(self.region);
        match result {
            Ok(_) => Ok(()),
            // X-Ray answers InvalidRequestException for a rule that does not exist.
            Err(e) if e.reason == Reason::InvalidSpec => {
                let fresh = self.ctx.sampling_rules.list(self.region).await?;
                match fresh.find(&self.name) {
                    None => Ok(()),
                    Some(_) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn cleanup(&self) -> Result<()> {
        self.ctx.tag_reads.forget(&self.key);
        if is_default_rule(&self.name) {
            // The schema makes the Default rule's deletionPolicy Retain; this guards the rule
            // against a spec that reached the operator without that check.
            tracing::info!("not deleting X-Ray's Default rule: it cannot be deleted");
            return Ok(());
        }
        let listing = self.ctx.sampling_rules.list(self.region).await?;
        let Some(record) = listing.find(&self.name) else {
            return Ok(());
        };
        if !self.confirmed {
            let arn = live(record).arn.unwrap_or_default();
            let tags = match xray_tags::list(&self.ctx.aws, self.region, &arn).await {
                Ok(tags) => tags,
                Err(e) if e.reason == Reason::NotFound => return Ok(()),
                Err(e) => return Err(e),
            };
            if !self.owner.owns(&tags) {
                tracing::info!(rule = %self.name, "not deleting a sampling rule this object does not own");
                return Ok(());
            }
        }
        self.delete().await
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
        Notice::warning(
            "DriftCorrected",
            "CreateSamplingRule",
            format!("put back a change made outside the operator: {why}"),
        )
    } else {
        Notice::normal("Replaced", "CreateSamplingRule", why)
    }
}
