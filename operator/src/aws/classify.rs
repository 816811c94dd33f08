//! Turns an AWS SDK error into the operator's [`Error`], deciding its reason and so its policy.
//! Error codes are AWS's own (see each service's "Common Errors" and per-operation errors);
//! anything unrecognised is treated as recoverable, because retrying with backoff is safer than
//! giving up on an error the operator does not understand.

use crate::error::Error;
use crate::reason::Reason;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Throttling error codes: CloudWatch `Throttling`, Logs `ThrottlingException`, X-Ray
/// `ThrottledException`, and the generic forms other services use.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
];

const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "MissingAuthenticationToken",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidSignatureException",
];

const INVALID: &[&str] = &[
    "ValidationError",
    "ValidationException",
    "InvalidParameterValue",
    "InvalidParameterValueException",
    "InvalidParameterCombination",
    "InvalidParameterException",
    "InvalidParameterInput",
    "MissingParameter",
    "MissingRequiredParameter",
    "InvalidRequestException",
    "InvalidArgumentException",
    "InvalidFormat",
    "InvalidFormatFault",
    "InvalidNextToken",
    "InvalidSequenceTokenException",
    "MalformedQueryString",
];

const LIMIT: &[&str] = &[
    "LimitExceeded",
    "LimitExceededFault",
    "LimitExceededException",
    "RuleLimitExceededException",
    "TooManyTagsException",
];

const NOT_FOUND: &[&str] = &["ResourceNotFound", "ResourceNotFoundException", "NotFound"];

/// The reason for an AWS error code and HTTP status.
pub fn reason_for(code: Option<&str>, http_status: Option<u16>) -> Reason {
    let is = |set: &[&str]| code.is_some_and(|c| set.contains(&c));
    if is(THROTTLING) || http_status == Some(429) {
        Reason::Throttled
    } else if is(ACCESS_DENIED) {
        Reason::AccessDenied
    } else if is(LIMIT) {
        Reason::LimitExceeded
    } else if is(NOT_FOUND) {
        Reason::NotFound
    } else if is(INVALID) {
        Reason::InvalidSpec
    } else {
        // Server errors (InternalFailure, ServiceUnavailable, 5xx), transient conflicts
        // (OperationAbortedException, ConcurrentModificationException) and anything unknown.
        Reason::AwsUnavailable
    }
}

/// Classifies an SDK error from `operation`.
pub fn classify<E>(operation: &str, err: &SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(ctx) => {
            let code = ctx.err().code().map(str::to_string);
            let message = ctx.err().message().map(str::to_string).unwrap_or_else(|| {
                code.clone()
                    .unwrap_or_else(|| "AWS returned an error without a message".into())
            });
            let status = ctx.raw().status().as_u16();
            let reason = reason_for(code.as_deref(), Some(status));
            Error {
                aws_code: code,
                ..Error::new(reason, format!("{operation}: {message}"))
            }
        }
        SdkError::TimeoutError(_) => {
            Error::new(Reason::AwsUnavailable, format!("{operation}: timed out"))
        }
        SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => Error::new(
            Reason::AwsUnavailable,
            format!(
                "{operation}: could not reach AWS: {}",
                DisplayErrorContext(err)
            ),
        ),
        SdkError::ConstructionFailure(_) => Error::new(
            Reason::InvalidSpec,
            format!(
                "{operation}: request could not be built: {}",
                DisplayErrorContext(err)
            ),
        ),
        other => Error::new(
            Reason::AwsUnavailable,
            format!("{operation}: {}", DisplayErrorContext(other)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_service_throttling_code_is_throttled() {
        for code in ["Throttling", "ThrottlingException", "ThrottledException"] {
            assert_eq!(
                reason_for(Some(code), Some(400)),
                Reason::Throttled,
                "{code}"
            );
        }
        assert_eq!(reason_for(None, Some(429)), Reason::Throttled);
    }

    #[test]
    fn validation_errors_are_terminal_and_server_errors_are_not() {
        assert!(reason_for(Some("ValidationError"), Some(400)).is_terminal());
        assert!(reason_for(Some("InvalidParameterValue"), Some(400)).is_terminal());
        assert!(!reason_for(Some("InternalFailure"), Some(500)).is_terminal());
        assert!(!reason_for(None, Some(503)).is_terminal());
    }

    #[test]
    fn hard_limits_are_not_mistaken_for_throttling() {
        assert_eq!(
            reason_for(Some("LimitExceededException"), Some(400)),
            Reason::LimitExceeded
        );
        assert_eq!(
            reason_for(Some("RuleLimitExceededException"), Some(400)),
            Reason::LimitExceeded
        );
    }

    #[test]
    fn access_denied_is_recoverable() {
        let r = reason_for(Some("AccessDeniedException"), Some(400));
        assert_eq!(r, Reason::AccessDenied);
        assert!(!r.is_terminal());
    }

    #[test]
    fn unknown_codes_are_retried() {
        assert_eq!(
            reason_for(Some("SomethingNew"), Some(400)),
            Reason::AwsUnavailable
        );
    }
}
