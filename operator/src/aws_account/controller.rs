//! The AWSAccount controller (a cluster-scoped kind: `runtime::cluster`):
//!
//! apply:
//! 1. when the spec changed, every object that uses or names the account is queued: who may use
//!    it, or its role, may have changed (pure, then Kubernetes queues);
//! 2. the namespace selector must be valid, else `InvalidSpec` (pure);
//! 3. the account's session is set to the spec's role, and its credentials fetched when due:
//!    STS AssumeRole from the operator's own credentials (network);
//! 4. GetCallerIdentity with those credentials: the account id and the caller (network);
//! 5. status from what the session reports (pure); when the account turns Ready again (its
//!    role's trust was fixed), the objects that use it are queued rather than left to back off.
//!    Checked again once per resync period.
//!
//! cleanup: held (`DependencyNotReady`) while any object lives in the account — it could neither
//! be deleted nor watched any more — then the session and its clients are dropped.

use super::access;
use super::spec::{AWSAccount, AWSAccountStatus};
use super::status::status;
use crate::aws::Location;
use crate::conditions::{Verdict, status_of};
use crate::error::{Error, Result};
use crate::runtime::cluster::ClusterKind;
use crate::runtime::context::Context;
use crate::runtime::{Applied, Failed, Reported};
use crate::vocabulary::condition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::ResourceExt;
use std::time::{Duration, SystemTime};

/// Users named in the message of a held deletion; the rest are counted.
const USERS_NAMED: usize = 10;

impl Reported for AWSAccount {
    const LABEL: &'static str = "AWSAccount";
    type Status = AWSAccountStatus;

    fn reported(&self) -> Option<&AWSAccountStatus> {
        self.status.as_ref()
    }

    fn conditions_of(status: &AWSAccountStatus) -> &[Condition] {
        &status.conditions
    }

    fn set_conditions(
        status: &mut AWSAccountStatus,
        generation: Option<i64>,
        conditions: Vec<Condition>,
    ) {
        status.observed_generation = generation;
        status.conditions = conditions;
    }
}

impl ClusterKind for AWSAccount {
    type Shared = ();

    async fn apply(
        &self,
        ctx: &Context,
        _shared: &(),
    ) -> Result<Applied<AWSAccountStatus>, Failed<AWSAccountStatus>> {
        let name = self.name_any();
        let previous = self.status.as_ref();
        if previous.and_then(|s| s.observed_generation) != self.metadata.generation {
            ctx.account_users.wake_users(ctx, &name);
        }
        access::validate(&self.spec)?;
        let role = access::role(&self.spec);
        let session = ctx.aws.use_account(&name, &role);
        let identity = match session.credentials(true).await {
            Ok(_) => {
                let home = Location::new(Some(&name), ctx.aws.default_region());
                ctx.aws.caller_identity(&home).await
            }
            Err(e) => Err(e),
        };
        let status = status(
            identity.as_ref().ok(),
            &session.report(),
            previous,
            SystemTime::now(),
        );
        match identity {
            Ok(identity) => {
                if !was_ready(previous) {
                    // Objects failing with AccessDenied would otherwise wait out their backoff.
                    ctx.account_users.wake_users(ctx, &name);
                }
                let verdict = Verdict::available(format!(
                    "the operator assumes {} in account {}",
                    role.arn, identity.account_id
                ));
                Ok(Applied::new(status, verdict))
            }
            Err(e) => {
                let error = Error {
                    message: format!("cannot assume {}: {}", role.arn, e.message),
                    ..e
                };
                Err(Failed::with_status(error, status))
            }
        }
    }

    async fn cleanup(&self, ctx: &Context, _shared: &()) -> Result<()> {
        let name = self.name_any();
        let users = ctx.account_users.of(ctx, &name).await;
        if !users.is_empty() {
            return Err(Error::dependency(held_message(&name, &users)));
        }
        ctx.aws.forget_account(&name);
        Ok(())
    }

    fn recheck(ctx: &Context) -> Duration {
        ctx.config.resync_period
    }
}

/// Whether the release of an object living in `account` should wake the account: only a deletion
/// held for its users has anything to do then. Waking a live account would only repeat its
/// STS GetCallerIdentity check, once per deleted object.
pub fn waits_for_its_users(account: Option<&AWSAccount>) -> bool {
    account.is_some_and(|a| a.metadata.deletion_timestamp.is_some())
}

fn was_ready(status: Option<&AWSAccountStatus>) -> bool {
    status
        .and_then(|s| status_of(&s.conditions, condition::READY))
        .is_some_and(|c| c.status == "True")
}

/// Why the deletion of `account` waits for `users` (`Kind namespace/name`, sorted).
pub fn held_message(account: &str, users: &[String]) -> String {
    let named = users
        .iter()
        .take(USERS_NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    let more = users.len().saturating_sub(USERS_NAMED);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "AWSAccount {account} is still used by {} object(s): {named}{more}. It is released once \
         they are deleted (their AWS objects are deleted with this account's credentials)",
        users.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_account_being_deleted_is_woken_when_an_object_leaves_it() {
        let live: AWSAccount = serde_json::from_value(serde_json::json!({
            "apiVersion": "cwo.dev/v1alpha1",
            "kind": "AWSAccount",
            "metadata": {"name": "prod"},
            "spec": {"roleArn": "arn:aws:iam::210987654321:role/cloudwatch-operator"},
        }))
        .expect("an AWSAccount");
        assert!(!waits_for_its_users(Some(&live)));
        assert!(!waits_for_its_users(None));
        let mut deleting = live.clone();
        deleting.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
            ));
        assert!(waits_for_its_users(Some(&deleting)));
    }

    #[test]
    fn a_held_deletion_names_its_first_users_and_counts_the_rest() {
        let few = vec!["Alarm team-a/cpu".to_string()];
        let message = held_message("prod", &few);
        assert!(
            message.contains("used by 1 object(s): Alarm team-a/cpu."),
            "{message}"
        );
        let many: Vec<String> = (0..25).map(|i| format!("Alarm ns/a{i:02}")).collect();
        let message = held_message("prod", &many);
        assert!(message.contains("used by 25 object(s)"), "{message}");
        assert!(message.contains("Alarm ns/a09 and 15 more"), "{message}");
        assert!(!message.contains("a10"), "{message}");
    }
}
