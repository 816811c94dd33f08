//! `cloudwatch-operator import` end to end: an account holding alarms made outside the operator
//! (by botocore, the engine of the AWS CLI, with AWS's defaults) becomes manifests that plan
//! without a change, apply, and come Ready with no AWS configuration write: adoption writes the
//! ownership tags and nothing else, and the next resyncs write nothing at all.

use anyhow::{Context, Result, bail};
use cwo_e2e::operator::{OperatorOptions, Scenario};
use cwo_e2e::repo_root;
use cwo_emulator::EmulatorConfig;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

use crate::scale::wait_ready_count;

/// Alarms no operator owns, and alarms another cluster's operator owns.
const UNOWNED: usize = 200;
const OWNED: usize = 5;

/// Runs the seeding script against the scenario's emulator; returns the names it made.
fn seed(s: &Scenario) -> Result<Vec<String>> {
    let script = repo_root().join("e2e/tests/fixtures/import/seed_alarms.py");
    let config = tempfile::tempdir()?;
    let out = Command::new("python3")
        .arg(&script)
        .arg(UNOWNED.to_string())
        .arg(OWNED.to_string())
        .env("AWS_ENDPOINT_URL", s.emulator.endpoint())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", config.path().join("config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            config.path().join("credentials"),
        )
        .env_remove("AWS_PROFILE")
        .output()
        .context("running python3 (.ci/run installs it with boto3)")?;
    if !out.status.success() {
        bail!("seeding failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8(out.stdout)?
        .lines()
        .map(str::to_string)
        .collect())
}

#[tokio::test]
async fn imported_alarms_plan_without_change_and_are_adopted_with_tag_writes_only() -> Result<()> {
    let mut s = Scenario::without_operator(
        "import",
        EmulatorConfig::default(),
        OperatorOptions::default(),
    )?;
    let ns = s.namespace().to_string();
    let seeded = seed(&s)?;
    assert_eq!(seeded.len(), UNOWNED);
    s.emulator.reset_calls();

    // Import: one file per alarm no operator owns; the owned ones are named in a note.
    let dir = tempfile::tempdir()?;
    let out_dir = dir.path().join("alarms");
    let out_dir = out_dir.to_str().context("path is UTF-8")?;
    let out = s.operator_command(["import", "-n", &ns, "--out", out_dir], None)?;
    assert!(out.success(), "{out}");
    assert!(
        out.stderr
            .contains(&format!("imported {UNOWNED}, skipped {OWNED}\n")),
        "{out}"
    );
    assert!(
        out.stderr.contains(
            "skipped alarm \"owned-0\" in us-east-1: managed by Alarm team-a/owned-0 in cluster \
             other-cluster"
        ),
        "{out}"
    );
    let files = std::fs::read_dir(out_dir)?.count();
    assert_eq!(files, UNOWNED);
    // The manifests as a person writes them: how they manage, and nothing AWS fills in
    // (DatapointsToAlarm equal to EvaluationPeriods is AWS's default and left out).
    let cpu = std::fs::read_to_string(dir.path().join("alarms/alarm-seeded-000.yaml"))?;
    assert_eq!(
        cpu,
        format!(
            "apiVersion: cwo.dev/v1alpha1
kind: Alarm
metadata:
  name: seeded-000
  namespace: {ns}
spec:
  region: us-east-1
  deletionPolicy: Retain
  adoption: IfUnowned
  description: seeded alarm 0
  okActions:
  - arn:aws:sns:us-east-1:123456789012:ops-alerts
  alarmActions:
  - arn:aws:sns:us-east-1:123456789012:ops-alerts
  metricName: CPUUtilization
  namespace: AWS/EC2
  dimensions:
  - name: InstanceId
    value: i-00000000000000000
  statistic: Average
  period: 300
  evaluationPeriods: 1
  threshold: 1.0
  comparisonOperator: GreaterThanThreshold
  treatMissingData: breaching
"
        )
    );
    let calls = s.emulator.calls();
    assert_eq!(calls.writes(), 0, "import wrote to AWS: {calls:?}");

    // Plan: every alarm unchanged, taken over (its ownership tags are the only write).
    let out = s.operator_command(["plan", "-f", out_dir, "-o", "json"], None)?;
    assert_eq!(out.status.code(), Some(2), "{out}");
    let plan: Value = serde_json::from_str(&out.stdout)?;
    assert_eq!(
        plan["summary"]["noChange"], UNOWNED,
        "{:#}",
        plan["summary"]
    );
    assert_eq!(plan["summary"]["adopt"], UNOWNED, "{:#}", plan["summary"]);
    let objects = plan["objects"].as_array().context("objects")?;
    let changed: Vec<&Value> = objects
        .iter()
        .filter(|o| o["action"] != "noChange" || o.get("changes").is_some())
        .collect();
    assert!(changed.is_empty(), "{changed:#?}");
    let calls = s.emulator.calls();
    assert_eq!(calls.writes(), 0, "plan wrote to AWS: {calls:?}");

    // Apply: every alarm Ready with no configuration write, one TagResource each.
    s.kubectl(["apply", "-f", out_dir])?.ok()?;
    s.start_operator()?;
    wait_ready_count(&s, "alarms", UNOWNED).await?;
    let calls = s.emulator.calls();
    assert_eq!(
        calls.total_of("cloudwatch", "PutMetricAlarm"),
        0,
        "adoption rewrote alarms: {calls:?}"
    );
    assert_eq!(
        calls.total_of("cloudwatch", "TagResource"),
        UNOWNED as u64,
        "{calls:?}"
    );
    assert_eq!(
        calls.writes(),
        UNOWNED as u64,
        "writes other than the ownership tags: {calls:?}"
    );
    let alarm = s.get("alarm", "seeded-000")?.context("imported alarm")?;
    assert_eq!(alarm["status"]["awsName"], "seeded-000");

    // The next resyncs (every 3 s here) write nothing.
    s.emulator.reset_calls();
    tokio::time::sleep(Duration::from_secs(8)).await;
    let calls = s.emulator.calls();
    assert_eq!(calls.writes(), 0, "resyncs wrote: {calls:?}");
    assert!(
        calls.total_of("cloudwatch", "DescribeAlarms") >= 2,
        "resyncs read the alarms: {calls:?}"
    );
    Ok(())
}
