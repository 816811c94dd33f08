//! Keeps the AWS SDK from retrying a hard limit as if it were throttling.
//!
//! The SDK's standard retry classifier lists `LimitExceededException` among the throttling codes
//! (some services throttle with it), so it retries the call with backoff. CloudWatch Logs uses
//! that code for a resource limit — one subscription filter too many on a log group — which no
//! retry lifts: every retry repeats a refused write and delays the terminal condition. Installed
//! on such an operation, [`HardLimitIsFinal`] forbids those retries; real throttling
//! (`ThrottlingException`) is still retried.

use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::orchestrator::OrchestratorError;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::error::Error as StdError;
use std::fmt;
use std::marker::PhantomData;

/// The error code of a hard limit.
pub const HARD_LIMIT_CODE: &str = "LimitExceededException";

/// A retry classifier for an operation whose error type is `E`: no retry on
/// `LimitExceededException`, no opinion otherwise.
pub struct HardLimitIsFinal<E> {
    _error: PhantomData<fn() -> E>,
}

impl<E> HardLimitIsFinal<E> {
    pub fn new() -> Self {
        HardLimitIsFinal {
            _error: PhantomData,
        }
    }
}

/// A CloudWatch Logs configuration override for an operation whose error type is `E`, with
/// [`HardLimitIsFinal`] installed: what a Put that may hit a per-log-group limit is sent with.
pub fn final_logs_limit<E>() -> aws_sdk_cloudwatchlogs::config::Builder
where
    HardLimitIsFinal<E>: ClassifyRetry + 'static,
{
    aws_sdk_cloudwatchlogs::config::Builder::default()
        .retry_classifier(HardLimitIsFinal::<E>::new())
}

impl<E> Default for HardLimitIsFinal<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> fmt::Debug for HardLimitIsFinal<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HardLimitIsFinal")
    }
}

impl<E> ClassifyRetry for HardLimitIsFinal<E>
where
    E: StdError + ProvideErrorMetadata + Send + Sync + 'static,
{
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(error)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        let code = OrchestratorError::as_operation_error(error)
            .and_then(|e| e.downcast_ref::<E>())
            .and_then(|e| e.code());
        if code == Some(HARD_LIMIT_CODE) {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "HardLimitIsFinal"
    }
}
