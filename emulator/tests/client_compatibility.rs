//! boto3 and the AWS CLI — a second, independent implementation of the JSON protocols —
//! agree with the emulator. These tests fail (never skip) when python3, boto3 or the AWS CLI
//! are missing: the CI script installs them.

mod common;

use std::path::PathBuf;
use std::process::Command;

use cwo_emulator::RunningEmulator;

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clients")
        .join(name)
}

/// Runs a client script against the emulator with throwaway credentials and no user config.
fn run(emulator: &RunningEmulator, program: &str, script_name: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(program)
        .arg(script(script_name))
        .env("AWS_ENDPOINT_URL", emulator.endpoint())
        .env("AWS_ACCESS_KEY_ID", "AKIDCLIENTTEST")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", dir.path().join("config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.path().join("credentials"),
        )
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_PAGER", "")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .unwrap_or_else(|e| panic!("{program} must be installed to run {script_name}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script_name} failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_round_trip_agrees_with_the_emulator() {
    let (emulator, _) = common::start().await;
    let stdout = run(&emulator, "python3", "boto3_round_trip.py");
    assert!(stdout.contains("7 passed, 0 failed"), "{stdout}");
    let calls = emulator.calls();
    for (service, operation) in [
        ("cloudwatch", "PutMetricAlarm"),
        ("logs", "PutSubscriptionFilter"),
        ("logs", "PutMetricFilter"),
        ("logs", "TestMetricFilter"),
        ("logs", "PutDestinationPolicy"),
        ("logs", "DescribeDestinations"),
        ("firehose", "CreateDeliveryStream"),
        ("xray", "CreateSamplingRule"),
        ("sts", "AssumeRole"),
    ] {
        assert!(
            calls.operation(service, operation).ok >= 1,
            "{service}:{operation} reached the emulator"
        );
    }
    assert_eq!(
        emulator
            .calls_in("210987654321")
            .operation("logs", "CreateLogGroup")
            .ok,
        1,
        "the assumed role's log group was created in the role's account"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_cli_round_trip_agrees_with_the_emulator() {
    let (emulator, _) = common::start().await;
    let stdout = run(&emulator, "bash", "aws_cli_round_trip.sh");
    assert!(stdout.contains("4 passed, 0 failed"), "{stdout}");
    let calls = emulator.calls();
    assert!(calls.operation("cloudwatch", "DescribeAlarms").ok >= 3);
    for operation in ["PutMetricFilter", "TestMetricFilter", "PutDestination"] {
        assert!(
            calls.operation("logs", operation).ok >= 1,
            "logs:{operation}"
        );
    }
}
