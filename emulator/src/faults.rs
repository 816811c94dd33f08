//! Injected faults, each at a rate: throttling, 500 and 503 answers and added latency, and the
//! network failing the way it fails between a client and AWS: requests never answered,
//! connections reset mid-request, and answers that come after the client stopped waiting.

use std::time::Duration;

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::error::AwsError;
use crate::wire::Service;

/// Fault injection settings (`GET`/`PUT /_emulator/faults`). Rates are probabilities per
/// request between 0 and 1. JSON:
///
/// ```json
/// {"throttle_rate": 0.1, "internal_error_rate": 0.0, "unavailable_rate": 0.0,
///  "latency_rate": 1.0, "latency_ms": 50, "timeout_rate": 0.0, "reset_rate": 0.0,
///  "slow_rate": 0.0, "slow_ms": 0, "operations": ["cloudwatch:PutMetricAlarm"]}
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultSettings {
    /// Share of requests answered with the service's throttling error.
    pub throttle_rate: f64,
    /// Share of requests answered with HTTP 500.
    pub internal_error_rate: f64,
    /// Share of requests answered with HTTP 503.
    pub unavailable_rate: f64,
    /// Share of requests delayed by `latency_ms` before they are handled.
    pub latency_rate: f64,
    pub latency_ms: u64,
    /// Share of requests never answered: the request is read and not run, and the connection
    /// is held open until the client gives up (its timeout) and closes it.
    pub timeout_rate: f64,
    /// Share of requests whose connection is reset (TCP RST) after the request is read, without
    /// an answer and without running the operation.
    pub reset_rate: f64,
    /// Share of requests whose operation runs at once but whose answer is sent `slow_ms` later:
    /// a client with a shorter timeout gives up although the change was made.
    pub slow_rate: f64,
    pub slow_ms: u64,
    /// Operations the faults apply to, as `Operation` or `service:Operation`; empty means all.
    pub operations: Vec<String>,
}

/// A network failure instead of an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkFault {
    /// Hold the request without answering until the client closes the connection.
    Timeout,
    /// Reset the connection.
    Reset,
}

impl NetworkFault {
    /// The code the call counts record it under (the client never sees one).
    pub fn code(self) -> &'static str {
        match self {
            NetworkFault::Timeout => "Timeout",
            NetworkFault::Reset => "ConnectionReset",
        }
    }
}

/// What fault injection decided for one request.
#[derive(Debug, Default)]
pub struct FaultDecision {
    /// Wait before handling the request.
    pub delay: Option<Duration>,
    /// Fail the connection instead of handling the request.
    pub network: Option<NetworkFault>,
    /// Answer with this error instead of running the operation.
    pub error: Option<AwsError>,
    /// Run the operation, then wait this long before answering.
    pub slow: Option<Duration>,
}

impl FaultSettings {
    /// Rejects rates outside 0..=1.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("throttle_rate", self.throttle_rate),
            ("internal_error_rate", self.internal_error_rate),
            ("unavailable_rate", self.unavailable_rate),
            ("latency_rate", self.latency_rate),
            ("timeout_rate", self.timeout_rate),
            ("reset_rate", self.reset_rate),
            ("slow_rate", self.slow_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, got {rate}"));
            }
        }
        Ok(())
    }

    fn is_active(&self) -> bool {
        self.throttle_rate > 0.0
            || self.internal_error_rate > 0.0
            || self.unavailable_rate > 0.0
            || (self.latency_rate > 0.0 && self.latency_ms > 0)
            || self.timeout_rate > 0.0
            || self.reset_rate > 0.0
            || (self.slow_rate > 0.0 && self.slow_ms > 0)
    }

    fn applies_to(&self, service: Service, operation: &str) -> bool {
        self.operations.is_empty()
            || self
                .operations
                .iter()
                .any(|entry| match entry.split_once(':') {
                    Some((svc, op)) => svc == service.key() && op == operation,
                    None => entry == operation,
                })
    }

    /// Draws the faults for one request. A network fault excludes an error answer; latency and
    /// slow answers combine with either.
    pub fn decide(&self, service: Service, operation: &str) -> FaultDecision {
        if !self.is_active() || !self.applies_to(service, operation) {
            return FaultDecision::default();
        }
        let mut rng = rand::rng();
        let delay = (self.latency_ms > 0 && rng.random_bool(self.latency_rate))
            .then(|| Duration::from_millis(self.latency_ms));
        let network = if rng.random_bool(self.timeout_rate) {
            Some(NetworkFault::Timeout)
        } else if rng.random_bool(self.reset_rate) {
            Some(NetworkFault::Reset)
        } else {
            None
        };
        let error = if network.is_some() {
            None
        } else if rng.random_bool(self.throttle_rate) {
            Some(throttling_error(service))
        } else if rng.random_bool(self.internal_error_rate) {
            Some(internal_error(service))
        } else if rng.random_bool(self.unavailable_rate) {
            Some(unavailable_error(service))
        } else {
            None
        };
        let slow = (self.slow_ms > 0 && rng.random_bool(self.slow_rate))
            .then(|| Duration::from_millis(self.slow_ms));
        FaultDecision {
            delay,
            network,
            error,
            slow,
        }
    }
}

/// Each service's throttling answer: CloudWatch `Throttling` (400, query-compatible code),
/// Logs and Firehose `ThrottlingException` (400), X-Ray `ThrottledException` (429). The SDKs'
/// retry classifiers treat all of these as throttling.
pub fn throttling_error(service: Service) -> AwsError {
    match service {
        Service::CloudWatch => AwsError::bad_request("Throttling", "Rate exceeded"),
        Service::Logs | Service::Firehose => {
            AwsError::bad_request("ThrottlingException", "Rate exceeded")
        }
        Service::XRay => AwsError::new(429, "ThrottledException", "Rate exceeded"),
        Service::Sts => AwsError::bad_request("Throttling", "Rate exceeded"),
    }
}

/// HTTP 500: CloudWatch models `InternalServiceFault` (code `InternalServiceError`); the
/// others answer the common `InternalFailure`.
pub fn internal_error(service: Service) -> AwsError {
    match service {
        Service::CloudWatch => AwsError::new(500, "InternalServiceError", "Internal service error")
            .with_type("com.amazonaws.cloudwatch#InternalServiceFault"),
        _ => AwsError::new(500, "InternalFailure", "An internal error occurred"),
    }
}

/// HTTP 503: Logs and Firehose model `ServiceUnavailableException`; the others answer the
/// common `ServiceUnavailable`.
pub fn unavailable_error(service: Service) -> AwsError {
    match service {
        Service::Logs | Service::Firehose => {
            AwsError::new(503, "ServiceUnavailableException", "Service unavailable")
        }
        _ => AwsError::new(503, "ServiceUnavailable", "Service unavailable"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_one_always_throttles_with_the_service_code() {
        let faults = FaultSettings {
            throttle_rate: 1.0,
            ..Default::default()
        };
        let error = faults
            .decide(Service::XRay, "GetSamplingRules")
            .error
            .unwrap();
        assert_eq!(
            (error.code.as_str(), error.status),
            ("ThrottledException", 429)
        );
        let error = faults
            .decide(Service::CloudWatch, "DescribeAlarms")
            .error
            .unwrap();
        assert_eq!((error.code.as_str(), error.status), ("Throttling", 400));
    }

    #[test]
    fn operation_filter_limits_faults() {
        let faults = FaultSettings {
            internal_error_rate: 1.0,
            operations: vec!["cloudwatch:PutMetricAlarm".into()],
            ..Default::default()
        };
        assert!(
            faults
                .decide(Service::CloudWatch, "PutMetricAlarm")
                .error
                .is_some()
        );
        assert!(
            faults
                .decide(Service::CloudWatch, "DescribeAlarms")
                .error
                .is_none()
        );
        assert!(
            faults
                .decide(Service::XRay, "PutMetricAlarm")
                .error
                .is_none()
        );
    }

    #[test]
    fn rates_outside_zero_to_one_are_rejected() {
        for faults in [
            FaultSettings {
                throttle_rate: 1.5,
                ..Default::default()
            },
            FaultSettings {
                timeout_rate: -0.1,
                ..Default::default()
            },
            FaultSettings {
                reset_rate: 2.0,
                ..Default::default()
            },
            FaultSettings {
                slow_rate: f64::NAN,
                ..Default::default()
            },
        ] {
            assert!(faults.validate().is_err(), "{faults:?}");
        }
    }

    #[test]
    fn network_faults_replace_error_answers_and_slow_answers_combine() {
        let faults = FaultSettings {
            reset_rate: 1.0,
            throttle_rate: 1.0,
            slow_rate: 1.0,
            slow_ms: 250,
            ..Default::default()
        };
        let decision = faults.decide(Service::Logs, "PutSubscriptionFilter");
        assert_eq!(decision.network, Some(NetworkFault::Reset));
        assert!(decision.error.is_none(), "no answer, so no error answer");
        assert_eq!(decision.slow, Some(Duration::from_millis(250)));
        let timeout = FaultSettings {
            timeout_rate: 1.0,
            reset_rate: 1.0,
            ..Default::default()
        };
        assert_eq!(
            timeout.decide(Service::XRay, "GetSamplingRules").network,
            Some(NetworkFault::Timeout)
        );
        let slow_without_delay = FaultSettings {
            slow_rate: 1.0,
            ..Default::default()
        };
        assert!(
            slow_without_delay
                .decide(Service::CloudWatch, "DescribeAlarms")
                .slow
                .is_none()
        );
    }
}
