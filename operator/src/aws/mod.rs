//! AWS access shared by every reconcile: one set of SDK clients per region (built once from the
//! default credential chain — IRSA, EKS Pod Identity, environment, profile — and one shared HTTPS
//! client), a client-side rate limit per (region, operation), and a metric per call.

pub mod alarm_deleter;
pub mod alarm_reader;
pub mod api;
pub mod batch;
pub mod classify;
pub mod cloudwatch_tags;
pub mod hard_limits;
pub mod metric_stream_switch;
pub mod rate_limit;
pub mod sampling_rules;
pub mod subscription_filters;
pub mod wire;
pub mod xray_tags;

use crate::error::Error;
use crate::metrics::{AwsOutcome, Metrics};
use crate::reason::Reason;
use api::Api;
use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
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

/// Where AWS objects live, as far as quotas, batches and caches go. AWS meters calls and keeps
/// objects per account and region; the operator works in one account, so a location is a
/// region. Every rate limit, batch and cache is keyed by this one type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    region: String,
}

impl Location {
    /// The location of objects in `region`.
    pub fn of(region: &str) -> Self {
        Location {
            region: region.to_string(),
        }
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.region)
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
}

/// The SDK clients for one region.
#[derive(Clone, Debug)]
pub struct RegionClients {
    pub region: String,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub firehose: aws_sdk_firehose::Client,
    pub xray: aws_sdk_xray::Client,
}

/// AWS clients, limits and call metrics, shared by all controllers.
pub struct Aws {
    sdk: SdkConfig,
    default_region: String,
    clients: Mutex<HashMap<String, Arc<RegionClients>>>,
    limiter: Arc<RateLimiter>,
    metrics: Arc<Metrics>,
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
        Ok(Aws {
            sdk,
            default_region,
            clients: Mutex::new(HashMap::new()),
            limiter: Arc::new(RateLimiter::new(settings.rate_limits)),
            metrics,
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

    /// The clients for `region`, built on first use and then shared.
    pub fn clients(&self, region: &str) -> Arc<RegionClients> {
        let mut clients = self.clients.lock().expect("aws clients lock");
        clients
            .entry(region.to_string())
            .or_insert_with(|| {
                let r = Region::new(region.to_string());
                Arc::new(RegionClients {
                    region: region.to_string(),
                    cloudwatch: aws_sdk_cloudwatch::Client::from_conf(
                        aws_sdk_cloudwatch::config::Builder::from(&self.sdk)
                            .region(r.clone())
                            .build(),
                    ),
                    logs: aws_sdk_cloudwatchlogs::Client::from_conf(
                        aws_sdk_cloudwatchlogs::config::Builder::from(&self.sdk)
                            .region(r.clone())
                            .build(),
                    ),
                    firehose: aws_sdk_firehose::Client::from_conf(
                        aws_sdk_firehose::config::Builder::from(&self.sdk)
                            .region(r.clone())
                            .build(),
                    ),
                    xray: aws_sdk_xray::Client::from_conf(
                        aws_sdk_xray::config::Builder::from(&self.sdk)
                            .region(r)
                            .build(),
                    ),
                })
            })
            .clone()
    }

    /// Runs one AWS call: waits for its rate-limit slot, sends it, counts it, adapts the rate to
    /// throttling, and classifies a failure. `request` is the SDK's unsent future (for example
    /// `client.put_metric_alarm()....send()`): nothing goes out before the slot.
    pub async fn call<T, E>(
        &self,
        region: &str,
        api: Api,
        request: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    ) -> Result<T, Error>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        self.limiter.acquire(&Location::of(region), api).await;
        self.call_in_slot(region, api, request).await
    }

    /// Runs one AWS call in a rate-limit slot the caller already waited for (a batch, which
    /// reserves its slot when it opens): [`Aws::call`] without the wait.
    pub async fn call_in_slot<T, E>(
        &self,
        region: &str,
        api: Api,
        request: impl Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    ) -> Result<T, Error>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let location = Location::of(region);
        let result = request.await;
        match result {
            Ok(out) => {
                self.limiter.succeeded(&location, api);
                self.metrics
                    .aws_call(api.service(), api.operation(), AwsOutcome::Success);
                crash_if_asked(api);
                Ok(out)
            }
            Err(err) => {
                let error = classify::classify(api.operation(), &err);
                let outcome = if error.reason == Reason::Throttled {
                    self.limiter.throttled(&location, api);
                    AwsOutcome::Throttled
                } else {
                    AwsOutcome::Error
                };
                self.metrics
                    .aws_call(api.service(), api.operation(), outcome);
                tracing::debug!(region, operation = %api, error = %error, "AWS call failed");
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
