//! The state file (`--state FILE`) and the `cwo-emulator` binary.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use aws_sdk_cloudwatch::types::{AlarmType, ComparisonOperator, Statistic};
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
