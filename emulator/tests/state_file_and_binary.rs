//! The state file (`--state FILE`) and the `cwo-emulator` binary.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use aws_sdk_cloudwatch::types::{AlarmType, ComparisonOperator, Statistic};
use aws_sdk_cloudwatchlogs::types::MetricTransformation;
use common::Clients;
use cwo_emulator::{Emulator, EmulatorConfig};

async fn put_alarm(clients: &Clients, name: &str) {
    clients
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(name)
        .namespace("N")
        .metric_name("M")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn state_survives_a_restart_through_the_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("state.json");
    let config = EmulatorConfig {
        state_file: Some(state_file.clone()),
        ..Default::default()
    };

    let (emulator, clients) = common::start_with(config.clone()).await;
    put_alarm(&clients, "child").await;
    clients
        .cloudwatch
        .put_composite_alarm()
        .alarm_name("parent")
        .alarm_rule("ALARM(child)")
        .send()
        .await
        .unwrap();
    clients
        .logs
        .create_log_group()
        .log_group_name("/demo")
        .send()
        .await
        .unwrap();
    emulator.shutdown().await.unwrap();
    assert!(state_file.exists());

    let (emulator, clients) = common::start_with(config).await;
    let out = clients
        .cloudwatch
        .describe_alarms()
        .alarm_types(AlarmType::MetricAlarm)
        .alarm_types(AlarmType::CompositeAlarm)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (out.metric_alarms().len(), out.composite_alarms().len()),
        (1, 1)
    );
    let parents = clients
        .cloudwatch
        .describe_alarms()
        .parents_of_alarm_name("child")
        .send()
        .await
        .unwrap();
    assert_eq!(
        parents.composite_alarms().len(),
        1,
        "the composite graph is rebuilt on load"
    );
    assert!(
        clients
            .cloudwatch
            .delete_alarms()
            .alarm_names("child")
            .send()
            .await
            .is_err()
    );
    let groups = clients.logs.describe_log_groups().send().await.unwrap();
    assert_eq!(groups.log_groups().len(), 1);
    drop(emulator);
}

#[tokio::test]
async fn metric_filters_and_destinations_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = EmulatorConfig {
        state_file: Some(dir.path().join("state.json")),
        ..Default::default()
    };
    let (emulator, clients) = common::start_with(config.clone()).await;
    let logs = &clients.logs;
    logs.create_log_group()
        .log_group_name("/aws/lambda/checkout")
        .send()
        .await
        .unwrap();
    logs.put_metric_filter()
        .log_group_name("/aws/lambda/checkout")
        .filter_name("errors")
        .filter_pattern("[level=ERROR, ...]")
        .metric_transformations(
            MetricTransformation::builder()
                .metric_name("Errors")
                .metric_namespace("Checkout")
                .metric_value("1")
                .default_value(0.0)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    logs.put_destination()
        .destination_name("central")
        .target_arn("arn:aws:kinesis:us-east-1:123456789012:stream/central")
        .role_arn("arn:aws:iam::123456789012:role/CWLtoKinesisRole")
        .send()
        .await
        .unwrap();
    let policy = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "111111111111"}, "Action": "logs:PutSubscriptionFilter",
        "Resource": "*"}]}"#;
    logs.put_destination_policy()
        .destination_name("central")
        .access_policy(policy)
        .send()
        .await
        .unwrap();
    let before = logs.describe_metric_filters().send().await.unwrap();
    emulator.shutdown().await.unwrap();

    let (_emulator, clients) = common::start_with(config).await;
    let logs = &clients.logs;
    let after = logs.describe_metric_filters().send().await.unwrap();
    assert_eq!(after.metric_filters(), before.metric_filters());
    assert_eq!(after.metric_filters().len(), 1);
    let destinations = logs.describe_destinations().send().await.unwrap();
    assert_eq!(destinations.destinations().len(), 1);
    assert_eq!(destinations.destinations()[0].access_policy(), Some(policy));
    let groups = logs.describe_log_groups().send().await.unwrap();
    assert_eq!(groups.log_groups()[0].metric_filter_count(), Some(1));
}

#[tokio::test]
async fn a_corrupt_state_file_is_reported_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("state.json");
    std::fs::write(&state_file, "not json").unwrap();
    let config = EmulatorConfig {
        state_file: Some(state_file),
        ..Default::default()
    };
    let error = Emulator::start(config).await.err().expect("start fails");
    assert!(
        error.to_string().contains("not a valid emulator state"),
        "{error}"
    );
}

/// Starts the binary and reads the endpoint it prints.
fn spawn_binary(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cwo-emulator"))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let endpoint = line
        .trim()
        .strip_prefix("listening on ")
        .expect("the endpoint is printed")
        .to_string();
    (child, endpoint)
}

fn terminate(child: &mut Child) {
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        child.wait().unwrap().success(),
        "the binary exits cleanly on SIGTERM"
    );
}

#[tokio::test]
async fn the_binary_serves_and_keeps_state_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("demo.json");
    let state = state.to_str().unwrap();

    let (mut child, endpoint) = spawn_binary(&["--port", "0", "--state", state]);
    let clients = Clients::new(&endpoint, "eu-central-1", "AKIDTESTEXAMPLE").await;
    put_alarm(&clients, "demo").await;
    terminate(&mut child);

    let (mut child, endpoint) = spawn_binary(&["--port", "0", "--state", state, "--quotas"]);
    let clients = Clients::new(&endpoint, "eu-central-1", "AKIDTESTEXAMPLE").await;
    let out = clients
        .cloudwatch
        .describe_alarms()
        .alarm_names("demo")
        .send()
        .await
        .unwrap();
    assert_eq!(out.metric_alarms().len(), 1);
    let (status, body) = common::admin(&endpoint, "GET", "/_emulator/quotas", None).await;
    assert_eq!(status, 200);
    assert!(body.contains("\"enabled\":true"), "{body}");
    terminate(&mut child);
}
