//! `cloudwatch-operator import` end to end: an account holding objects made outside the operator
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

use crate::sampling_rules;
use crate::scale::wait_ready_count;
use cloudwatch_operator::sampling_rule::SamplingRule;
use cloudwatch_operator::sampling_rule::desired::desired;
use cloudwatch_operator::sampling_rule::diff::plan as rule_plan;
use cloudwatch_operator::sampling_rule::observed::observed;
use kube::ResourceExt;

/// Alarms no operator owns, and alarms another cluster's operator owns.
const UNOWNED: usize = 200;
const OWNED: usize = 5;
/// Composite alarms over them (none owned).
const COMPOSITES: usize = 4;
/// X-Ray sampling rules, besides the Default rule every region has.
const SAMPLING_RULES: usize = 3;
/// Metric streams, one of them stopped.
const METRIC_STREAMS: usize = 2;
/// Subscription filters.
const LOG_SUBSCRIPTIONS: usize = 3;
/// Metric filters.
const METRIC_FILTERS: usize = 2;
/// CloudWatch Logs destinations.
const LOG_DESTINATIONS: usize = 2;
/// Every object the import takes over.
const IMPORTED: usize = UNOWNED
    + COMPOSITES
    + SAMPLING_RULES
    + METRIC_STREAMS
    + LOG_SUBSCRIPTIONS
    + METRIC_FILTERS
    + LOG_DESTINATIONS;
/// What it leaves alone: the owned alarms, and X-Ray's Default rule.
const SKIPPED: usize = OWNED + 1;

/// Runs the seeding script against the scenario's emulator; returns the unowned objects it made,
/// as (kind, AWS name).
fn seed(s: &Scenario) -> Result<Vec<(String, String)>> {
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
    String::from_utf8(out.stdout)?
        .lines()
        .map(|line| {
            let (kind, name) = line.split_once(' ').context("KIND NAME")?;
            Ok((kind.to_string(), name.to_string()))
        })
        .collect()
}

fn count_of(seeded: &[(String, String)], kind: &str) -> usize {
    seeded.iter().filter(|(k, _)| k == kind).count()
}

/// The name of the imported manifest in `dir` whose AWS name, in the spec field `field` (kept
/// there when the object is named otherwise), is `aws_name`.
fn object_named_for(dir: &std::path::Path, field: &str, aws_name: &str) -> Result<String> {
    for entry in std::fs::read_dir(dir)? {
        let manifest: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(entry?.path())?)?;
        if manifest["spec"][field].as_str() == Some(aws_name) {
            let name = manifest["metadata"]["name"].as_str().context("name")?;
            return Ok(name.to_string());
        }
    }
    bail!("no manifest for {aws_name:?}")
}

#[tokio::test]
async fn imported_objects_plan_without_change_and_are_adopted_with_tag_writes_only() -> Result<()> {
    let mut s = Scenario::without_operator(
        "import",
        EmulatorConfig::default(),
        OperatorOptions::default(),
    )?;
    let ns = s.namespace().to_string();
    let seeded = seed(&s)?;
    assert_eq!(count_of(&seeded, "Alarm"), UNOWNED);
    assert_eq!(count_of(&seeded, "CompositeAlarm"), COMPOSITES);
    assert_eq!(count_of(&seeded, "SamplingRule"), SAMPLING_RULES);
    assert_eq!(count_of(&seeded, "MetricStream"), METRIC_STREAMS);
    assert_eq!(count_of(&seeded, "LogSubscription"), LOG_SUBSCRIPTIONS);
    assert_eq!(count_of(&seeded, "MetricFilter"), METRIC_FILTERS);
    assert_eq!(count_of(&seeded, "LogDestination"), LOG_DESTINATIONS);
    assert_eq!(seeded.len(), IMPORTED);
    s.emulator.reset_calls();

    // Import: one file per object no operator owns; the owned ones are named in a note.
    let dir = tempfile::tempdir()?;
    let out_dir = dir.path().join("objects");
    let out_dir = out_dir.to_str().context("path is UTF-8")?;
    let out = s.operator_command(["import", "-n", &ns, "--out", out_dir], None)?;
    assert!(out.success(), "{out}");
    assert!(
        out.stderr
            .contains(&format!("imported {IMPORTED}, skipped {SKIPPED}\n")),
        "{out}"
    );
    assert!(
        out.stderr.contains(
            "skipped alarm \"owned-0\" in us-east-1: managed by Alarm team-a/owned-0 in cluster \
             other-cluster"
        ),
        "{out}"
    );
    assert!(
        out.stderr
            .contains("skipped sampling rule \"Default\" in us-east-1: X-Ray's built-in rule"),
        "{out}"
    );
    let files = std::fs::read_dir(out_dir)?.count();
    assert_eq!(files, IMPORTED);
    // The manifests as a person writes them: how they manage, and nothing AWS fills in
    // (DatapointsToAlarm equal to EvaluationPeriods is AWS's default and left out).
    let cpu = std::fs::read_to_string(dir.path().join("objects/alarm-seeded-000.yaml"))?;
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
    // A composite's rule as structured YAML over the Alarm objects of the same import.
    let svc9 = object_named_for(&dir.path().join("objects"), "alarmName", "Svc 9 Errors")?;
    let checkout =
        std::fs::read_to_string(dir.path().join("objects/compositealarm-checkout-down.yaml"))?;
    assert_eq!(
        checkout,
        format!(
            "apiVersion: cwo.dev/v1alpha1
kind: CompositeAlarm
metadata:
  name: checkout-down
  namespace: {ns}
spec:
  region: us-east-1
  deletionPolicy: Retain
  adoption: IfUnowned
  rule:
    allOf:
    - alarm:
        alarmRef: seeded-001
    - anyOf:
      - alarm:
          alarmRef: {svc9}
      - alarm:
          alarmRef: seeded-002
          state: OK
  alarmActions:
  - arn:aws:sns:us-east-1:123456789012:ops-alerts
  actionsSuppressor: seeded-010
  actionsSuppressorWaitPeriod: 60
  actionsSuppressorExtensionPeriod: 120
"
        )
    );
    let manifest = |file: &str| -> Result<serde_yaml::Value> {
        let text = std::fs::read_to_string(dir.path().join("objects").join(file))?;
        Ok(serde_yaml::from_str(&text)?)
    };
    // An alarm another operator owns is not imported, so the rule keeps its name.
    let degraded = manifest("compositealarm-shop-degraded.yaml")?;
    let at_least = &degraded["spec"]["rule"]["atLeast"];
    assert_eq!(
        serde_yaml::to_string(at_least)?,
        "count: 2\nalarmRefs:\n- seeded-003\n- seeded-004\nalarmNames:\n- owned-0\n"
    );
    // Too deep for the structured form: the expression, as AWS holds it.
    let deep = manifest("compositealarm-deep-rule.yaml")?;
    assert_eq!(
        deep["spec"]["alarmRule"].as_str(),
        Some(
            "NOT (ALARM(seeded-005) AND NOT (ALARM(seeded-006) OR NOT (ALARM(seeded-007) AND \
             ALARM(seeded-008))))"
        )
    );
    assert!(deep["spec"].get("rule").is_none());
    // A sampling rule asks for exactly the rule X-Ray holds (the controller's own steps find
    // nothing to change between the two, tags included), and leaves out what the seed left to
    // X-Ray's wildcards and default version.
    let checkout_get = manifest("samplingrule-checkout-get.yaml")?;
    let xray = aws_sdk_xray::Client::new(&s.sdk);
    let held = sampling_rules::find(&xray, "checkout-get")
        .await
        .context("checkout-get in X-Ray")?;
    let applied: SamplingRule = serde_yaml::from_value(checkout_get.clone())?;
    let plan = rule_plan(
        &desired(&applied.spec, &applied.name_any()),
        &observed(&held),
        &applied.spec.tags.0.0,
        Some(&sampling_rules::tags(&xray, "checkout-get").await),
    );
    assert!(plan.is_empty(), "{plan:?}");
    assert_eq!(
        applied.spec.tags.0.0.get("team").map(String::as_str),
        Some("shop")
    );
    for left_to_xray in ["resourceArn", "serviceType", "host", "version"] {
        assert!(
            checkout_get["spec"].get(left_to_xray).is_none(),
            "{left_to_xray} in {checkout_get:?}"
        );
    }

    // A metric filter as written with the CLI, without what CloudWatch Logs fills in.
    let errors = object_named_for(&dir.path().join("objects"), "filterName", "Checkout Errors")?;
    let errors_file = dir
        .path()
        .join(format!("objects/metricfilter-{errors}.yaml"));
    assert_eq!(
        std::fs::read_to_string(errors_file)?,
        format!(
            "apiVersion: cwo.dev/v1alpha1
kind: MetricFilter
metadata:
  name: {errors}
  namespace: {ns}
spec:
  region: us-east-1
  deletionPolicy: Retain
  adoption: IfUnowned
  logGroupName: /app/checkout
  filterName: Checkout Errors
  filterPattern: '{{ $.level = \"ERROR\" }}'
  metricTransformations:
  - metricName: CheckoutErrorLines
    metricNamespace: Checkout
    metricValue: '1'
    defaultValue: 0.0
    unit: Count
"
        )
    );
    // A destination whose policy is the sender accounts' one, as senderAccountIds.
    let central = manifest("logdestination-central-logs.yaml")?;
    assert_eq!(
        serde_yaml::to_string(&central["spec"])?,
        "region: us-east-1\ndeletionPolicy: Retain\nadoption: IfUnowned\n\
         targetArn: arn:aws:firehose:us-east-1:123456789012:deliverystream/central-logs\n\
         roleArn: arn:aws:iam::123456789012:role/logs-to-firehose\n\
         senderAccountIds:\n- '123456789012'\n- '210987654321'\ntags:\n  team: observability\n"
    );

    let calls = s.emulator.calls();
    assert_eq!(calls.writes(), 0, "import wrote to AWS: {calls:?}");

    // Plan: every object unchanged, taken over (its ownership tags are the only write).
    let out = s.operator_command(["plan", "-f", out_dir, "-o", "json"], None)?;
    assert_eq!(out.status.code(), Some(2), "{out}");
    let plan: Value = serde_json::from_str(&out.stdout)?;
    let objects = plan["objects"].as_array().context("objects")?;
    let changed: Vec<&Value> = objects
        .iter()
        .filter(|o| o["action"] != "noChange" || o.get("changes").is_some())
        .collect();
    assert!(changed.is_empty(), "{changed:#?}");
    assert_eq!(
        plan["summary"]["noChange"], IMPORTED,
        "{:#}",
        plan["summary"]
    );
    assert_eq!(plan["summary"]["adopt"], IMPORTED, "{:#}", plan["summary"]);
    let calls = s.emulator.calls();
    assert_eq!(calls.writes(), 0, "plan wrote to AWS: {calls:?}");

    // Apply: every object Ready with no configuration write, one TagResource each.
    s.kubectl(["apply", "-f", out_dir])?.ok()?;
    s.start_operator()?;
    wait_ready_count(&s, "alarms", UNOWNED).await?;
    wait_ready_count(&s, "compositealarms", COMPOSITES).await?;
    wait_ready_count(&s, "samplingrules", SAMPLING_RULES).await?;
    wait_ready_count(&s, "metricstreams", METRIC_STREAMS).await?;
    wait_ready_count(&s, "logsubscriptions", LOG_SUBSCRIPTIONS).await?;
    wait_ready_count(&s, "metricfilters", METRIC_FILTERS).await?;
    wait_ready_count(&s, "logdestinations", LOG_DESTINATIONS).await?;
    let paused = object_named_for(&dir.path().join("objects"), "streamName", "paused_all")?;
    let paused = s.get("metricstream", &paused)?.context("paused_all")?;
    assert_eq!(paused["status"]["state"], "stopped");
    let calls = s.emulator.calls();
    for (service, write) in [
        ("cloudwatch", "PutMetricAlarm"),
        ("cloudwatch", "PutCompositeAlarm"),
        ("xray", "UpdateSamplingRule"),
        ("xray", "CreateSamplingRule"),
        ("cloudwatch", "PutMetricStream"),
        ("cloudwatch", "StartMetricStreams"),
        ("cloudwatch", "StopMetricStreams"),
        ("logs", "PutSubscriptionFilter"),
        ("logs", "PutMetricFilter"),
        ("logs", "PutDestination"),
        ("logs", "PutDestinationPolicy"),
    ] {
        assert_eq!(
            calls.total_of(service, write),
            0,
            "adoption rewrote objects: {calls:?}"
        );
    }
    assert_eq!(
        calls.total_of("cloudwatch", "TagResource"),
        (UNOWNED + COMPOSITES + METRIC_STREAMS) as u64,
        "{calls:?}"
    );
    assert_eq!(
        calls.total_of("xray", "TagResource"),
        SAMPLING_RULES as u64,
        "{calls:?}"
    );
    assert_eq!(
        calls.total_of("logs", "TagResource"),
        LOG_DESTINATIONS as u64,
        "{calls:?}"
    );
    // Subscription and metric filters have no tags: adopting one records it in status and
    // writes nothing.
    assert_eq!(
        calls.writes(),
        (IMPORTED - LOG_SUBSCRIPTIONS - METRIC_FILTERS) as u64,
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
