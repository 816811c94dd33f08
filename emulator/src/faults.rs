//! Injected faults: throttling, 500 and 503 answers, and added latency, each at a rate.

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
///  "latency_rate": 1.0, "latency_ms": 50, "operations": ["cloudwatch:PutMetricAlarm"]}
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
    /// Operations the faults apply to, as `Operation` or `service:Operation`; empty means all.
    pub operations: Vec<String>,
}

/// What fault injection decided for one request.
#[derive(Debug, Default)]
pub struct FaultDecision {
    pub delay: Option<Duration>,
    pub error: Option<AwsError>,
}

impl FaultSettings {
    /// Rejects rates outside 0..=1.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("throttle_rate", self.throttle_rate),
            ("internal_error_rate", self.internal_error_rate),
            ("unavailable_rate", self.unavailable_rate),
            ("latency_rate", self.latency_rate),
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

    /// Draws the faults for one request.
    pub fn decide(&self, service: Service, operation: &str) -> FaultDecision {
        if !self.is_active() || !self.applies_to(service, operation) {
            return FaultDecision::default();
        }
        let mut rng = rand::rng();
        let delay = (self.latency_ms > 0 && rng.random_bool(self.latency_rate))
            .then(|| Duration::from_millis(self.latency_ms));
        let error = if rng.random_bool(self.throttle_rate) {
            Some(throttling_error(service))
        } else if rng.random_bool(self.internal_error_rate) {
            Some(internal_error(service))
        } else if rng.random_bool(self.unavailable_rate) {
            Some(unavailable_error(service))
        } else {
            None
        };
        FaultDecision { delay, error }
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
        let faults = FaultSettings {
            throttle_rate: 1.5,
            ..Default::default()
        };
        assert!(faults.validate().is_err());
    }
}
