//! AWS access shared by every reconcile: one set of SDK clients per [`Location`] — an account and
//! a region — built on one shared HTTPS client, with the operator's own credentials (the default
//! chain: IRSA, EKS Pod Identity, environment, profile) or, for an account an `AWSAccount` names,
//! the temporary credentials of the role it assumes there ([`accounts`]); a client-side rate limit
//! per (location, operation), and a metric per call.

pub mod accounts;
pub mod alarm_deleter;
pub mod alarm_reader;
pub mod api;
pub mod batch;
pub mod classify;
pub mod cloudwatch_tags;
pub mod hard_limits;
pub mod log_destinations;
pub mod log_group_reader;
pub mod logs_tags;
pub mod metric_filters;
pub mod metric_stream_switch;
pub mod metric_streams;
pub mod rate_limit;
pub mod sampling_rules;
pub mod subscription_filters;
pub mod tag_sync;
pub mod wire;
pub mod xray_tags;

use crate::error::Error;
use crate::metrics::{AwsOutcome, Metrics};
use crate::reason::Reason;
use accounts::{AccountCredentials, Accounts, Identity, Role, Session, credentials_rejected};
use api::Api;
use aws_config::BehaviorVersion;
use aws_config::identity::IdentityCache;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::SdkConfig;
use aws_types::region::Region;
use rate_limit::{RateLimitConfig, RateLimiter};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Test-only: names an AWS operation (`PutMetricStream`, or `service:Operation` where the bare
/// name is ambiguous) after whose first success the process aborts, as `kill -9` would stop it.
/// The end-to-end tests use it to crash the operator deterministically between a create call and
/// the status write that records it, then restart it and check that nothing is duplicated.
/// Unset in every real deployment; deliberately absent from `--help`.
pub const CRASH_AFTER_ENV: &str = "CWO_TEST_CRASH_AFTER";

/// Where AWS objects live, as far as credentials, quotas, batches and caches go. AWS meters
/// calls and keeps objects per account and region, so a location is both: the account (the
/// operator's own, or one an `AWSAccount` names, whose role the operator assumes) and the region.
/// Every rate limit, batch and cache is keyed by this one type, so two accounts never share a
/// batch, a limiter or a cached reading.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    account: Option<String>,
    region: String,
}

impl Location {
    /// The location of objects in `region` of the operator's own account.
    pub fn of(region: &str) -> Self {
        Location {
            account: None,
            region: region.to_string(),
        }
    }

    /// The location of objects in `region` of `account` (the name of an `AWSAccount`; `None`:
    /// the operator's own account).
    pub fn new(account: Option<&str>, region: &str) -> Self {
        Location {
            account: account.map(str::to_string),
            region: region.to_string(),
        }
    }

    /// The account: the name of the `AWSAccount` whose role the calls assume, or `None` for the
    /// operator's own credentials.
    pub fn account(&self) -> Option<&str> {
        self.account.as_deref()
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The same account in another region.
    pub fn in_region(&self, region: &str) -> Self {
        Location::new(self.account(), region)
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.account {
            Some(account) => write!(f, "{} of AWSAccount {account}", self.region),
            None => f.write_str(&self.region),
        }
    }
}

/// How the operator reaches AWS.
#[derive(Clone, Debug, Default)]
pub struct AwsSettings {
    /// Region for objects that name none (and whose namespace has no `cwo.dev/region`).
    /// `None`: the region from the SDK's default chain (`AWS_REGION`, profile).
    pub default_region: Option<String>,
    /// Send every AWS call to this endpoint instead of AWS (the local emulator).
    pub endpoint_url: Option<String>,
    /// Client-side rate limits.
    pub rate_limits: RateLimitConfig,
    /// Refuse every call that would change AWS, before it is sent (`plan` and `import`).
    pub read_only: bool,
}

/// The SDK clients for one location (account and region).
#[derive(Clone, Debug)]
pub struct RegionClients {
    pub region: String,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub firehose: aws_sdk_firehose::Client,
    pub xray: aws_sdk_xray::Client,
    pub sts: aws_sdk_sts::Client,
}

tokio::task_local! {
    /// Set while an object's AWS object is being deleted (its cleanup runs): the calls made
    /// from it are also counted as a deletion's (`cwo_deletion_aws_calls_total`).
    static DELETING: ();
}

/// Runs `cleanup` (the deletion of an object's AWS object) with its AWS calls counted as a
/// deletion's too. Calls it shares through a batch run in the batch's own task and are not.
pub fn for_deletion<F: Future>(cleanup: F) -> impl Future<Output = F::Output> {
    DELETING.scope((), cleanup)
}

/// AWS clients, credentials, limits and call metrics, shared by all controllers.
pub struct Aws {
    sdk: SdkConfig,
    default_region: String,
    clients: Mutex<HashMap<Location, Arc<RegionClients>>>,
    accounts: Arc<Accounts>,
    /// Who the operator's own credentials are, once GetCallerIdentity has said.
    own_identity: tokio::sync::OnceCell<Identity>,
    limiter: Arc<RateLimiter>,
    metrics: Arc<Metrics>,
    read_only: bool,
}

impl std::fmt::Debug for Aws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aws")
            .field("default_region", &self.default_region)
            .finish_non_exhaustive()
    }
}

impl Aws {
    /// Loads the default credential chain and region once.
    pub async fn load(settings: AwsSettings, metrics: Arc<Metrics>) -> anyhow::Result<Self> {
        // One HTTPS client for every service and region, on rustls with ring (the provider kube
        // already uses), so the SDK's default aws-lc client is not compiled in.
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(20))
                    .operation_timeout(Duration::from_secs(60))
                    .build(),
            );
        if let Some(endpoint) = &settings.endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        if let Some(region) = &settings.default_region {
            loader = loader.region(Region::new(region.clone()));
        }
        let sdk = loader.load().await;
        let default_region = sdk.region().map(|r| r.to_string()).ok_or_else(|| {
            anyhow::anyhow!(
                "no default AWS region: pass --default-region (or set AWS_REGION), or give every \
                 object spec.region or its namespace the cwo.dev/region annotation"
            )
        })?;
        // AssumeRole is signed with the operator's own credentials, in its default region.
        let sts = aws_sdk_sts::Client::new(&sdk);
        Ok(Aws {
            accounts: Arc::new(Accounts::new(sts, Arc::clone(&metrics))),
            sdk,
            default_region,
            clients: Mutex::new(HashMap::new()),
            own_identity: tokio::sync::OnceCell::new(),
            limiter: Arc::new(RateLimiter::new(settings.rate_limits)),
            metrics,
            read_only: settings.read_only,
        })
    }

    /// The region for objects that name none.
    pub fn default_region(&self) -> &str {
        &self.default_region
    }

    /// The rate limits, for batches that reserve their slot ahead of the call (`batch`).
    pub fn limiter(&self) -> &Arc<RateLimiter> {
        &self.limiter
    }

    /// The clients for `location`, built on first use and then shared. An account's clients sign
    /// with its session's credentials (see [`accounts`]); they are used only after the shell
    /// configured the account's role ([`Aws::use_account`]).
    pub fn clients(&self, location: &Location) -> Arc<RegionClients> {
        let mut clients = self.clients.lock().expect("aws clients lock");
        if let Some(built) = clients.get(location) {
            return Arc::clone(built);
        }
        let region = Region::new(location.region().to_string());
        let mut config = self.sdk.to_builder().region(region);
        if let Some(account) = location.account() {
            // The session is the cache: it renews the credentials ahead of their expiry and
            // drops them when AWS rejects them, so the SDK's own identity cache stays out.
            config = config
                .credentials_provider(SharedCredentialsProvider::new(AccountCredentials {
                    accounts: Arc::clone(&self.accounts),
                    account: account.to_string(),
                }))
                .identity_cache(IdentityCache::no_cache());
        }
        let sdk = config.build();
        let built = Arc::new(RegionClients {
            region: location.region().to_string(),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&sdk),
            logs: aws_sdk_cloudwatchlogs::Client::new(&sdk),
            firehose: aws_sdk_firehose::Client::new(&sdk),
            xray: aws_sdk_xray::Client::new(&sdk),
            sts: aws_sdk_sts::Client::new(&sdk),
        });
        clients.insert(location.clone(), Arc::clone(&built));
        built
    }

    /// Makes `account` assume `role` (a new session when the role changed).
    pub fn use_account(&self, account: &str, role: &Role) -> Arc<Session> {
        self.accounts.configure(account, role)
    }

    /// Forgets `account`: its session and its clients.
    pub fn forget_account(&self, account: &str) {
        self.accounts.forget(account);
        self.clients
            .lock()
            .expect("aws clients lock")
            .retain(|location, _| location.account() != Some(account));
    }

    /// Who the calls at `location` are made as, which also proves they can be made: for an
    /// account, its session's credentials (assuming its role when they are due); for the
    /// operator's own account, GetCallerIdentity once per process.
    pub async fn identity(&self, location: &Location) -> Result<Identity, Error> {
        match location.account() {
            Some(account) => {
                let session = self.accounts.session(account).ok_or_else(|| {
                    Error::new(
                        Reason::DependencyNotReady,
                        format!("no role is configured yet for AWSAccount {account}"),
                    )
                })?;
                session
                    .credentials(false)
                    .await
                    .map(|(_, identity)| identity)
            }
            None => {
                let home = Location::of(&self.default_region);
                self.own_identity
                    .get_or_try_init(|| self.caller_identity(&home))
                    .await
                    .cloned()
            }
        }
    }

    /// Sets who the operator's own credentials are, as GetCallerIdentity would say (tests that
    /// run without AWS).
    #[cfg(test)]
    pub(crate) fn set_own_identity(&self, identity: Identity) {
        let _ = self.own_identity.set(identity);
    }

    /// GetCallerIdentity at `location`, with that location's credentials.
    pub async fn caller_identity(&self, location: &Location) -> Result<Identity, Error> {
        let client = &self.clients(location).sts;
        let out = self
            .call(
                location,
                Api::GetCallerIdentity,
                client.get_caller_identity().send(),
            )
            .await?;
        match (out.account(), out.arn()) {
            (Some(account_id), Some(arn)) => Ok(Identity {
                account_id: account_id.to_string(),
                arn: arn.to_string(),
            }),
            _ => Err(Error::new(
                Reason::AwsUnavailable,
                "GetCallerIdentity answered without an account or ARN",
            )),
        }
    }

    /// Runs one AWS call: waits for its rate-limit slot, sends it, counts it, adapts the rate to
    /// throttling, and classifies a failure. `request` is the SDK's unsent future (for example
    /// `client.put_metric_alarm()....send()`): nothing goes out before the slot.
    pub async fn call<T, E>(
        &self,
        location: &Location,
        api: Api,
        request: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    ) -> Result<T, Error>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.limiter.acquire(location, api).await;
        self.call_in_slot(location, api, request).await
    }

    /// Runs one AWS call in a rate-limit slot the caller already waited for (a batch, which
    /// reserves its slot when it opens): [`Aws::call`] without the wait.
    pub async fn call_in_slot<T, E>(
        &self,
        location: &Location,
        api: Api,
        request: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    ) -> Result<T, Error>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        if self.read_only && api.is_write() {
            return Err(Error::new(
                Reason::AccessDenied,
                format!("{api} was not sent: this command only reads AWS"),
            ));
        }
        let result = request.await;
        if DELETING.try_with(|_| ()).is_ok() {
            self.metrics
                .deletion_aws_call(api.service(), api.operation());
        }
        match result {
            Ok(out) => {
                self.limiter.succeeded(location, api);
                self.metrics
                    .aws_call(api.service(), api.operation(), AwsOutcome::Success);
                crash_if_asked(api);
                Ok(out)
            }
            Err(err) => {
                let error = classify::classify(api.operation(), &err);
                let outcome = if error.reason == Reason::Throttled {
                    self.limiter.throttled(location, api);
                    AwsOutcome::Throttled
                } else {
                    AwsOutcome::Error
                };
                self.metrics
                    .aws_call(api.service(), api.operation(), outcome);
                tracing::debug!(%location, operation = %api, error = %error, "AWS call failed");
                if let Some(account) = location.account()
                    && error.aws_code.as_deref().is_some_and(credentials_rejected)
                    && let Some(session) = self.accounts.session(account)
                {
                    session.drop_credentials().await;
                }
                Err(error)
            }
        }
    }
}

/// Aborts the process if [`CRASH_AFTER_ENV`] names `api` (read once per process).
fn crash_if_asked(api: Api) {
    static CRASH_AFTER: OnceLock<Option<Api>> = OnceLock::new();
    let target = CRASH_AFTER.get_or_init(|| {
        let name = std::env::var(CRASH_AFTER_ENV).ok()?;
        match name.parse::<Api>() {
            Ok(api) => Some(api),
            Err(e) => {
                tracing::error!(error = %e, "{CRASH_AFTER_ENV} names no AWS operation; ignored");
                None
            }
        }
    });
    if *target == Some(api) {
        eprintln!("{CRASH_AFTER_ENV}={api}: aborting right after the call succeeded");
        std::process::abort();
    }
}

/// `request`, noting in `sent` when it goes out: when it is first polled, which [`Aws::call`]
/// does only once the call has its rate-limit slot. A create's answer then bounds when AWS made
/// the object: between `sent` and the answer.
pub async fn sent_at<F: Future>(
    request: F,
    sent: &mut Option<k8s_openapi::jiff::Timestamp>,
) -> F::Output {
    *sent = Some(k8s_openapi::jiff::Timestamp::now());
    request.await
}

/// AWS access at an endpoint where nothing listens, for tests of what must or must not reach AWS
/// (a call fails at once; an answer from anything kept does not).
#[cfg(test)]
pub async fn unreachable() -> Arc<Aws> {
    let settings = AwsSettings {
        default_region: Some("us-east-1".into()),
        endpoint_url: Some("http://127.0.0.1:9".into()),
        ..Default::default()
    };
    Arc::new(Aws::load(settings, Arc::new(Metrics::new())).await.unwrap())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn aws(read_only: bool) -> Aws {
        let settings = AwsSettings {
            default_region: Some("us-east-1".into()),
            // Nothing listens here.
            endpoint_url: Some("http://127.0.0.1:9".into()),
            read_only,
            ..Default::default()
        };
        Aws::load(settings, Arc::new(Metrics::new())).await.unwrap()
    }

    fn put(aws: &Aws) -> impl Future<Output = Result<(), Error>> {
        let client = aws.clients(&Location::of("us-east-1")).cloudwatch.clone();
        async move {
            let request = client.put_metric_alarm().alarm_name("a").send();
            aws.call(&Location::of("us-east-1"), Api::PutMetricAlarm, request)
                .await
                .map(|_| ())
        }
    }

    #[tokio::test]
    async fn a_request_is_sent_when_polled_not_when_built() {
        let mut sent = None;
        let built = k8s_openapi::jiff::Timestamp::now();
        let request = sent_at(async { 7 }, &mut sent);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(request.await, 7);
        let sent = sent.expect("noted when polled");
        assert!(
            sent.duration_since(built).as_millis() >= 30,
            "noted at {sent}, built at {built}"
        );
    }

    #[tokio::test]
    async fn only_the_calls_made_inside_a_deletion_are_counted_as_a_deletions() {
        let aws = aws(false).await;
        let _ = put(&aws).await;
        let _ = for_deletion(put(&aws)).await;
        let _ = for_deletion(async { put(&aws).await }).await;
        let text = aws.metrics.encode();
        let line = |name: &str, labels: &str| {
            text.lines()
                .find(|l| l.starts_with(&format!("{name}{{{labels}}} ")))
                .unwrap_or_else(|| panic!("no {name}{{{labels}}} in\n{text}"))
                .rsplit_once(' ')
                .map(|(_, v)| v.to_string())
                .unwrap()
        };
        let put_labels = r#"service="cloudwatch",operation="PutMetricAlarm""#;
        assert_eq!(line("cwo_deletion_aws_calls_total", put_labels), "2");
        assert_eq!(
            line(
                "cwo_deletion_aws_calls_total",
                r#"service="cloudwatch",operation="DeleteAlarms""#
            ),
            "0",
            "every operation's series exists from the start"
        );
        assert_eq!(
            line(
                "cwo_aws_calls_total",
                &format!(r#"{put_labels},outcome="error""#)
            ),
            "3",
            "all three are AWS calls"
        );
    }

    #[tokio::test]
    async fn a_read_only_client_refuses_writes_before_sending_them() {
        let aws = aws(true).await;
        let e = put(&aws).await.unwrap_err();
        assert_eq!(e.reason, Reason::AccessDenied);
        assert!(e.message.contains("only reads AWS"), "{e}");
        assert!(e.aws_code.is_none(), "nothing was sent: {e:?}");
    }

    #[tokio::test]
    async fn a_read_only_client_still_sends_reads_and_a_normal_client_sends_writes() {
        let read_only = aws(true).await;
        let client = read_only
            .clients(&Location::of("us-east-1"))
            .cloudwatch
            .clone();
        let read = read_only
            .call(
                &Location::of("us-east-1"),
                Api::DescribeAlarms,
                client.describe_alarms().send(),
            )
            .await
            .unwrap_err();
        assert!(!read.message.contains("only reads AWS"), "{read}");
        let normal = aws(false).await;
        let e = put(&normal).await.unwrap_err();
        assert!(!e.message.contains("only reads AWS"), "{e}");
    }
}
