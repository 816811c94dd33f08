//! Network faults reach the Rust SDK as real networking failures do: a request never answered
//! is the SDK's timeout, a reset connection its dispatch failure (an I/O error, retried as
//! transient), and an answer slower than the SDK waits is a timeout although the change was
//! made.

mod common;

use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::error::SdkError;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use common::{Clients, REGION, admin, sdk_config};
use cwo_emulator::FaultSettings;

fn put_alarm(
    cw: &Client,
    name: &str,
) -> aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder {
    cw.put_metric_alarm()
        .alarm_name(name)
        .namespace("N")
        .metric_name("M")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
}

/// Clients that give up on an attempt after `attempt_timeout` (none: wait forever), with the
/// given retry configuration.
async fn clients(endpoint: &str, attempt_timeout: Option<Duration>, retry: RetryConfig) -> Clients {
    let mut timeouts = TimeoutConfig::builder();
    timeouts.set_operation_attempt_timeout(attempt_timeout);
    let timeouts = timeouts.build();
    let config = sdk_config(endpoint, REGION, "AKIDTESTEXAMPLE")
        .await
        .into_builder()
        .retry_config(retry)
        .timeout_config(timeouts)
        .build();
    Clients::from_config(&config)
}

async fn alarm_exists(cw: &Client, name: &str) -> bool {
    !cw.describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .unwrap()
        .metric_alarms()
        .is_empty()
}

fn only_puts(faults: FaultSettings) -> FaultSettings {
    FaultSettings {
        operations: vec!["cloudwatch:PutMetricAlarm".into()],
        ..faults
    }
}

#[tokio::test]
async fn a_request_never_answered_is_the_sdks_timeout_and_is_not_run() {
    let (emulator, plain) = common::start().await;
    emulator
        .set_faults(only_puts(FaultSettings {
            timeout_rate: 1.0,
            ..Default::default()
        }))
        .unwrap();
    let timeout = Duration::from_millis(500);
    let impatient = clients(&emulator.endpoint(), Some(timeout), RetryConfig::disabled()).await;
    let started = Instant::now();
    let err = put_alarm(&impatient.cloudwatch, "held")
        .send()
        .await
        .unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(err, SdkError::TimeoutError(_)), "{err:?}");
    assert!(
        waited >= timeout && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    assert!(
        !alarm_exists(&plain.cloudwatch, "held").await,
        "the request was not run"
    );
    let calls = emulator.calls().operation("cloudwatch", "PutMetricAlarm");
    assert_eq!((calls.total, calls.injected), (1, 1));
    assert_eq!(calls.errors.get("Timeout"), Some(&1));
}

#[tokio::test]
async fn a_held_request_does_not_hold_up_shutdown() {
    let (emulator, _) = common::start().await;
    emulator
        .set_faults(FaultSettings {
            timeout_rate: 1.0,
            ..Default::default()
        })
        .unwrap();
    let patient = clients(&emulator.endpoint(), None, RetryConfig::disabled()).await;
    let request = tokio::spawn(async move { put_alarm(&patient.cloudwatch, "held").send().await });
    while emulator.calls().total() == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::timeout(Duration::from_secs(5), emulator.shutdown())
        .await
        .expect("shutdown does not wait for the held request")
        .unwrap();
    let err = request.await.unwrap().unwrap_err();
    assert!(matches!(err, SdkError::DispatchFailure(_)), "{err:?}");
}

#[tokio::test]
async fn a_reset_connection_is_a_dispatch_failure_the_sdk_retries() {
    let (emulator, plain) = common::start().await;
    emulator
        .set_faults(only_puts(FaultSettings {
            reset_rate: 1.0,
            ..Default::default()
        }))
        .unwrap();
    let no_retries = clients(&emulator.endpoint(), None, RetryConfig::disabled()).await;
    let started = Instant::now();
    let err = put_alarm(&no_retries.cloudwatch, "reset")
        .send()
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "a reset is immediate"
    );
    match &err {
        SdkError::DispatchFailure(failure) => assert!(failure.is_io(), "{err:?}"),
        other => panic!("expected a dispatch failure, got {other:?}"),
    }
    assert!(
        !alarm_exists(&plain.cloudwatch, "reset").await,
        "the request was not run"
    );

    emulator.reset_calls();
    let standard = clients(&emulator.endpoint(), None, RetryConfig::standard()).await;
    let err = put_alarm(&standard.cloudwatch, "reset")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, SdkError::DispatchFailure(_)), "{err:?}");
    let calls = emulator.calls().operation("cloudwatch", "PutMetricAlarm");
    assert_eq!(calls.total, 3, "the standard retry mode makes 3 attempts");
    assert_eq!(calls.errors.get("ConnectionReset"), Some(&3));

    emulator.set_faults(FaultSettings::default()).unwrap();
    put_alarm(&standard.cloudwatch, "after")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn an_answer_slower_than_the_sdk_waits_is_a_timeout_after_the_change_was_made() {
    let (emulator, plain) = common::start().await;
    emulator
        .set_faults(only_puts(FaultSettings {
            slow_rate: 1.0,
            slow_ms: 1500,
            ..Default::default()
        }))
        .unwrap();
    let impatient = clients(
        &emulator.endpoint(),
        Some(Duration::from_millis(400)),
        RetryConfig::disabled(),
    )
    .await;
    let err = put_alarm(&impatient.cloudwatch, "slow")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, SdkError::TimeoutError(_)), "{err:?}");
    assert!(
        alarm_exists(&plain.cloudwatch, "slow").await,
        "the operation ran; only its answer was late"
    );

    emulator
        .set_faults(only_puts(FaultSettings {
            slow_rate: 1.0,
            slow_ms: 300,
            ..Default::default()
        }))
        .unwrap();
    let started = Instant::now();
    put_alarm(&plain.cloudwatch, "slow-but-awaited")
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn the_admin_api_sets_and_checks_the_network_faults() {
    let (emulator, _) = common::start().await;
    let (status, body) = admin(
        &emulator.endpoint(),
        "PUT",
        "/_emulator/faults",
        Some(r#"{"timeout_rate": 0.1, "reset_rate": 0.2, "slow_rate": 0.5, "slow_ms": 30000}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let faults = emulator.faults();
    assert_eq!(
        (
            faults.timeout_rate,
            faults.reset_rate,
            faults.slow_rate,
            faults.slow_ms
        ),
        (0.1, 0.2, 0.5, 30000)
    );
    let (status, body) = admin(
        &emulator.endpoint(),
        "PUT",
        "/_emulator/faults",
        Some(r#"{"reset_rate": 1.5}"#),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("reset_rate must be between 0 and 1"),
        "{body}"
    );
    assert_eq!(
        emulator.faults().reset_rate,
        0.2,
        "invalid settings change nothing"
    );
}
