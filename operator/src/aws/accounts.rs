//! Credentials for the AWS accounts objects live in.
//!
//! An object's AWS calls are made either with the operator's own credentials (its base identity:
//! IRSA, EKS Pod Identity, the SDK's default chain) or in an account an `AWSAccount` names. For
//! such an account the operator assumes the account's role with STS AssumeRole — signed, like
//! everything else, by the SDK with the base credentials — and the SDK signs the account's calls
//! with the temporary credentials AssumeRole returns. One [`Session`] per account holds them,
//! shared by every SDK client of that account:
//! - they are fetched on first use and fetched again before they expire ([`renew_at`]: five
//!   minutes ahead, or a quarter of the lifetime for shorter sessions), one AssumeRole at a time
//!   per account: concurrent reconciles wait for that one call and share its answer;
//! - a refused AssumeRole is kept for [`REFUSAL_HOLD`], so a thousand objects of an account whose
//!   role does not trust the operator cost one call per hold, not one per reconcile;
//! - an answer that the temporary credentials are expired or unknown (`ExpiredToken`,
//!   `InvalidClientTokenId`, ...) drops them, and the next call assumes the role again;
//! - they never reach logs, Events, status or metrics: the SDK's `Credentials` hide their
//!   secrets when printed, and errors carry only AWS's message.
//!
//! STS is not rate limited here: its quota is hundreds of calls per second per account, and a
//! session makes one call per account per renewal.

use super::api::Api;
use super::classify;
use crate::error::Error;
use crate::metrics::{AwsOutcome, Metrics};
use crate::reason::Reason;
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{self, ProvideCredentials};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// Credentials are renewed this long before they expire, at most.
pub const RENEW_BEFORE: Duration = Duration::from_secs(300);
/// A refused AssumeRole is answered again, without a call, for this long.
pub const REFUSAL_HOLD: Duration = Duration::from_secs(10);
/// Names the temporary credentials in the SDK (for its debug output).
const PROVIDER_NAME: &str = "cwo-assume-role";

/// The role the operator assumes for an account, as the account's `AWSAccount` gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    /// ARN of the IAM role to assume.
    pub arn: String,
    /// The external ID the role's trust policy requires, if any.
    pub external_id: Option<String>,
    /// The session name (it appears in the account's CloudTrail).
    pub session_name: String,
    /// How long the temporary credentials should last (AWS may cap it).
    pub duration: Duration,
}

/// Who a set of credentials is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The 12-digit AWS account id.
    pub account_id: String,
    /// The caller's ARN (an assumed-role session, a user, a role).
    pub arn: String,
}

/// What a session has done so far, for the account's status.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionReport {
    /// When AssumeRole last succeeded.
    pub last_success: Option<SystemTime>,
    /// When the credentials from that call expire.
    pub expires: Option<SystemTime>,
    /// The error of the last AssumeRole, if it failed (cleared by a success).
    pub last_error: Option<Error>,
}

/// When credentials issued at `issued` and expiring at `expires` should be renewed:
/// [`RENEW_BEFORE`] ahead of their expiry, or a quarter of their lifetime ahead when that is
/// shorter (sessions of a few minutes, as a test bed issues them).
pub fn renew_at(issued: SystemTime, expires: SystemTime) -> SystemTime {
    let lifetime = expires.duration_since(issued).unwrap_or(Duration::ZERO);
    expires - RENEW_BEFORE.min(lifetime / 4)
}

/// The account id in an IAM or STS ARN (`arn:<partition>:<service>::<account>:<resource>`).
pub fn account_of_arn(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (prefix, _partition, _service, _region, account) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    parts.next()?;
    (prefix == "arn" && account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        .then_some(account)
}

/// Whether an AWS error code says the temporary credentials are no longer (or never were)
/// accepted, so they must be fetched again.
pub fn credentials_rejected(code: &str) -> bool {
    matches!(
        code,
        "ExpiredToken"
            | "ExpiredTokenException"
            | "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "RequestExpired"
    )
}

/// Credentials that were issued, and when to renew them.
#[derive(Clone)]
struct Issued {
    credentials: Credentials,
    identity: Identity,
    renew_at: SystemTime,
}

enum State {
    Empty,
    Issued(Issued),
    Refused { at: Instant, error: Error },
}

/// The temporary credentials of one account.
pub struct Session {
    role: Role,
    sts: aws_sdk_sts::Client,
    metrics: Arc<Metrics>,
    /// Held across AssumeRole: one call at a time per account.
    state: tokio::sync::Mutex<State>,
    report: Mutex<SessionReport>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("role", &self.role.arn)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The role this session assumes.
    pub fn role(&self) -> &Role {
        &self.role
    }

    /// What the session has done so far.
    pub fn report(&self) -> SessionReport {
        self.report.lock().expect("session report lock").clone()
    }

    /// Valid credentials and whose they are: the ones held while they are not due for renewal,
    /// else fresh ones from AssumeRole. A refusal younger than [`REFUSAL_HOLD`] is answered
    /// again without a call, unless `retry_refused`.
    pub async fn credentials(&self, retry_refused: bool) -> Result<(Credentials, Identity), Error> {
        let mut state = self.state.lock().await;
        match &*state {
            State::Issued(issued) if SystemTime::now() < issued.renew_at => {
                return Ok((issued.credentials.clone(), issued.identity.clone()));
            }
            State::Refused { at, error } if !retry_refused && at.elapsed() < REFUSAL_HOLD => {
                return Err(error.clone());
            }
            _ => {}
        }
        let asked = SystemTime::now();
        let result = self.assume().await;
        let mut report = self.report.lock().expect("session report lock");
        match result {
            Ok((credentials, identity, expires)) => {
                *state = State::Issued(Issued {
                    credentials: credentials.clone(),
                    identity: identity.clone(),
                    renew_at: renew_at(asked, expires),
                });
                report.last_success = Some(asked);
                report.expires = Some(expires);
                report.last_error = None;
                Ok((credentials, identity))
            }
            Err(error) => {
                *state = State::Refused {
                    at: Instant::now(),
                    error: error.clone(),
                };
                report.last_error = Some(error.clone());
                Err(error)
            }
        }
    }

    /// AWS no longer accepts the credentials held: the next call assumes the role again.
    pub async fn drop_credentials(&self) {
        let mut state = self.state.lock().await;
        if matches!(*state, State::Issued(_)) {
            *state = State::Empty;
        }
    }

    /// One AssumeRole call.
    async fn assume(&self) -> Result<(Credentials, Identity, SystemTime), Error> {
        let role = &self.role;
        let api = Api::AssumeRole;
        let result = self
            .sts
            .assume_role()
            .role_arn(&role.arn)
            .role_session_name(&role.session_name)
            .set_external_id(role.external_id.clone())
            .duration_seconds(i32::try_from(role.duration.as_secs()).unwrap_or(i32::MAX))
            .send()
            .await;
        let out = match result {
            Ok(out) => {
                self.metrics
                    .aws_call(api.service(), api.operation(), AwsOutcome::Success);
                out
            }
            Err(err) => {
                let error = classify::classify(api.operation(), &err);
                let outcome = if error.reason == Reason::Throttled {
                    AwsOutcome::Throttled
                } else {
                    AwsOutcome::Error
                };
                self.metrics
                    .aws_call(api.service(), api.operation(), outcome);
                tracing::debug!(role = %role.arn, error = %error, "AssumeRole failed");
                return Err(error);
            }
        };
        let malformed = |what: &str| {
            Error::new(
                Reason::AwsUnavailable,
                format!("AssumeRole of {} answered without {what}", role.arn),
            )
        };
        let issued = out.credentials().ok_or_else(|| malformed("credentials"))?;
        let expires = SystemTime::try_from(*issued.expiration())
            .map_err(|_| malformed("a valid expiration"))?;
        if expires <= SystemTime::now() {
            return Err(malformed("credentials that are still valid"));
        }
        let arn = out
            .assumed_role_user()
            .map(|u| u.arn().to_string())
            .ok_or_else(|| malformed("the assumed role's ARN"))?;
        let account_id = account_of_arn(&arn)
            .ok_or_else(|| malformed("an account id in the assumed role's ARN"))?
            .to_string();
        let credentials = Credentials::new(
            issued.access_key_id(),
            issued.secret_access_key(),
            Some(issued.session_token().to_string()),
            Some(expires),
            PROVIDER_NAME,
        );
        Ok((credentials, Identity { account_id, arn }, expires))
    }
}

/// The sessions of every account in use, by `AWSAccount` name.
pub struct Accounts {
    sts: aws_sdk_sts::Client,
    metrics: Arc<Metrics>,
    sessions: Mutex<HashMap<String, Arc<Session>>>,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts").finish_non_exhaustive()
    }
}

impl Accounts {
    /// Sessions that assume roles through `sts` (a client with the operator's base credentials).
    pub fn new(sts: aws_sdk_sts::Client, metrics: Arc<Metrics>) -> Self {
        Accounts {
            sts,
            metrics,
            sessions: Mutex::default(),
        }
    }

    /// The session of `account`, assuming `role`: the one held, or a new one when there is none
    /// or the role changed (the credentials of the old role are dropped with it).
    pub fn configure(&self, account: &str, role: &Role) -> Arc<Session> {
        let mut sessions = self.sessions.lock().expect("sessions lock");
        if let Some(session) = sessions.get(account)
            && session.role == *role
        {
            return Arc::clone(session);
        }
        let session = Arc::new(Session {
            role: role.clone(),
            sts: self.sts.clone(),
            metrics: Arc::clone(&self.metrics),
            state: tokio::sync::Mutex::new(State::Empty),
            report: Mutex::default(),
        });
        sessions.insert(account.to_string(), Arc::clone(&session));
        session
    }

    /// The session of `account`, if one was configured.
    pub fn session(&self, account: &str) -> Option<Arc<Session>> {
        self.sessions
            .lock()
            .expect("sessions lock")
            .get(account)
            .cloned()
    }

    /// Forgets `account` and its credentials.
    pub fn forget(&self, account: &str) {
        self.sessions.lock().expect("sessions lock").remove(account);
    }
}

/// The credentials provider of one account's SDK clients: the account's session, looked up at
/// each call, so a session replaced after a role change serves the clients already built.
#[derive(Clone, Debug)]
pub struct AccountCredentials {
    pub accounts: Arc<Accounts>,
    pub account: String,
}

impl ProvideCredentials for AccountCredentials {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(async move {
            let session = self.accounts.session(&self.account).ok_or_else(|| {
                CredentialsError::not_loaded(format!(
                    "no role is configured for AWSAccount {}",
                    self.account
                ))
            })?;
            session
                .credentials(false)
                .await
                .map(|(credentials, _)| credentials)
                .map_err(CredentialsError::provider_error)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn an_hour_long_session_is_renewed_five_minutes_before_it_expires() {
        assert_eq!(renew_at(at(1_000), at(4_600)), at(4_300));
        // AWS's longest session (12 hours): still five minutes.
        assert_eq!(renew_at(at(0), at(43_200)), at(42_900));
    }

    #[test]
    fn a_short_session_is_renewed_with_a_quarter_of_its_life_left() {
        // 20 seconds, as the test bed issues them: renewed after 15.
        assert_eq!(renew_at(at(100), at(120)), at(115));
        // Exactly where the two rules meet: 20 minutes, renewed 5 minutes ahead either way.
        assert_eq!(renew_at(at(0), at(1_200)), at(900));
    }

    #[test]
    fn credentials_without_a_lifetime_are_due_at_once() {
        assert_eq!(renew_at(at(100), at(100)), at(100));
        // Expiring before they were asked for (a clock step): due at their expiry.
        assert_eq!(renew_at(at(100), at(90)), at(90));
    }

    #[test]
    fn the_account_is_read_from_iam_and_sts_arns() {
        assert_eq!(
            account_of_arn("arn:aws:sts::210987654321:assumed-role/cwo/cloudwatch-operator"),
            Some("210987654321")
        );
        assert_eq!(
            account_of_arn("arn:aws-cn:iam::123456789012:role/path/to/cwo"),
            Some("123456789012")
        );
        assert_eq!(account_of_arn("arn:aws:iam::12345:role/short"), None);
        assert_eq!(account_of_arn("arn:aws:iam::123456789012"), None);
        assert_eq!(account_of_arn("nope:aws:iam::123456789012:role/x"), None);
    }

    #[test]
    fn expired_and_unknown_credentials_are_fetched_again_but_a_refusal_is_not() {
        assert!(credentials_rejected("ExpiredToken"));
        assert!(credentials_rejected("ExpiredTokenException"));
        assert!(credentials_rejected("InvalidClientTokenId"));
        assert!(!credentials_rejected("AccessDenied"));
        assert!(!credentials_rejected("AccessDeniedException"));
    }
}
