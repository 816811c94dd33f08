//! MetricStream end to end: the real operator binary on the real API server, against the
//! emulator through the real AWS SDK. The Firehose delivery streams the metric streams need are
//! created in the emulator first, as a user creates them in AWS.

use anyhow::{Result, bail};
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::operation::get_metric_stream::GetMetricStreamOutput;
use cloudwatch_operator::aws::CRASH_AFTER_ENV;
use cwo_e2e::operator::{OperatorOptions, Scenario, create_delivery_stream};
use cwo_emulator::EmulatorConfig;
use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

const ACCOUNT: &str = "123456789012";
const ROLE: &str = "arn:aws:iam::123456789012:role/cloudwatch-metric-stream";

fn firehose_arn(name: &str) -> String {
    format!("arn:aws:firehose:us-east-1:{ACCOUNT}:deliverystream/{name}")
}

/// A MetricStream into the delivery stream `firehose`, with `extra` spec lines.
fn stream(name: &str, firehose: &str, extra: &str) -> String {
    format!(
        r#"apiVersion: cwo.dev/v1alpha1
kind: MetricStream
metadata:
  name: {name}
spec:
  firehoseArn: {arn}
  roleArn: {ROLE}
  outputFormat: json
  includeFilters:
    - namespace: AWS/EC2
      metricNames: [CPUUtilization, NetworkIn]
{extra}"#,
        arn = firehose_arn(firehose)
    )
}

async fn get(cw: &Client, name: &str) -> Option<GetMetricStreamOutput> {
    cw.get_metric_stream().name(name).send().await.ok()
}

async fn state(cw: &Client, name: &str) -> Option<String> {
    get(cw, name).await.and_then(|s| s.state)
}

async fn tags(cw: &Client, name: &str) -> BTreeMap<String, String> {
    let arn = get(cw, name).await.unwrap().arn.unwrap();
    cw.list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap()
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
        .collect()
}

/// Polls `check` every 200 ms until it returns `Some`, up to `timeout`.
async fn eventually<T, F, Fut>(
    s: &Scenario,
    what: &str,
    timeout: Duration,
    mut check: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return Ok(v);
        }
        if Instant::now() >= deadline {
            bail!(
                "timed out after {timeout:?} waiting for {what}\n--- operator log (tail) ---\n{}",
                s.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn wait_state(s: &Scenario, cw: &Client, name: &str, want: &str) -> Result<()> {
    eventually(
        s,
        &format!("{name} {want} in CloudWatch"),
        Duration::from_secs(30),
        || async { (state(cw, name).await.as_deref() == Some(want)).then_some(()) },
    )
    .await
}

async fn wait_event(s: &Scenario, name: &str, reason: &str) -> Result<()> {
    s.wait_for(
        &format!("{reason} event on {name}"),
        Duration::from_secs(30),
        || {
            Ok(s.event_reasons(name)?
                .iter()
                .any(|r| r == reason)
                .then_some(()))
        },
    )
    .await
}

fn calls(s: &Scenario, operation: &str) -> u64 {
    s.emulator.calls().total_of("cloudwatch", operation)
}

#[tokio::test]
async fn metric_stream_example_becomes_ready_and_idle_resyncs_write_nothing() -> Result<()> {
    let s = Scenario::start("ms-example").await?;
    let cw = Client::new(&s.sdk);
    create_delivery_stream(&s.sdk, "cloudwatch-metrics").await?;
    s.apply_file("examples/metric-stream.yaml")?;
    s.wait_ready("metricstream", "observability-export").await?;

    let created = get(&cw, "observability-export")
        .await
        .expect("the stream exists in CloudWatch");
    assert_eq!(
        created.output_format.as_ref().unwrap().as_str(),
        "opentelemetry1.0"
    );
    assert_eq!(created.include_filters().len(), 2);
    assert_eq!(
        created.statistics_configurations()[0]
            .additional_statistics()
            .len(),
        2
    );
    assert_eq!(
        created.firehose_arn.as_deref(),
        Some(firehose_arn("cloudwatch-metrics").as_str())
    );
    let t = tags(&cw, "observability-export").await;
    assert_eq!(t.get("team").map(String::as_str), Some("observability"));
    let ns = s.namespace().to_string();
    assert_eq!(
        t.get("cwo.dev/owner"),
        Some(&format!("e2e/{ns}/MetricStream/observability-export"))
    );

    let obj = s.get("metricstream", "observability-export")?.unwrap();
    assert_eq!(obj["status"]["state"], "running");
    assert_eq!(obj["status"]["firehoseDeliveryStreamStatus"], "ACTIVE");
    assert_eq!(obj["status"]["awsName"], "observability-export");
    assert!(obj["status"]["creationDate"].is_string());
    assert!(obj["status"]["lastUpdateDate"].is_string());
    assert!(
        obj["status"]["arn"]
            .as_str()
            .unwrap()
            .ends_with(":metric-stream/observability-export")
    );
    assert_eq!(calls(&s, "PutMetricStream"), 1);
    assert_eq!(
        calls(&s, "StartMetricStreams") + calls(&s, "StopMetricStreams"),
        0,
        "created running"
    );
    assert!(
        s.event_reasons("observability-export")?
            .contains(&"Created".to_string())
    );

    // Idle: several resync periods (3 s) with reads only and no status write.
    let writes_before = s.status_writes("MetricStream")?;
    s.emulator.reset_calls();
    tokio::time::sleep(Duration::from_secs(12)).await;
    let idle = s.emulator.calls();
    assert_eq!(idle.writes(), 0, "idle resyncs made AWS writes: {idle:?}");
    assert!(
        idle.total_of("cloudwatch", "GetMetricStream") >= 3,
        "resyncs re-read the stream: {idle:?}"
    );
    assert!(
        idle.total_of("firehose", "DescribeDeliveryStream") >= 3,
        "resyncs check the destination"
    );
    assert_eq!(
        s.status_writes("MetricStream")?,
        writes_before,
        "idle resyncs wrote status"
    );
    Ok(())
}

#[tokio::test]
async fn spec_changes_put_once_and_tag_changes_do_not_put() -> Result<()> {
    let s = Scenario::start("ms-update").await?;
    let cw = Client::new(&s.sdk);
    create_delivery_stream(&s.sdk, "fh").await?;
    s.apply_yaml(&stream("export", "fh", "  tags:\n    team: a\n"))?;
    s.wait_ready("metricstream", "export").await?;

    s.emulator.reset_calls();
    let changed = stream(
        "export",
        "fh",
        "  tags:\n    team: a\n  includeLinkedAccountsMetrics: true\n",
    )
    .replace("outputFormat: json", "outputFormat: opentelemetry0.7");
    s.apply_yaml(&changed)?;
    s.wait_ready("metricstream", "export").await?;
    let now = get(&cw, "export").await.unwrap();
    assert_eq!(now.output_format.unwrap().as_str(), "opentelemetry0.7");
    assert_eq!(now.include_linked_accounts_metrics, Some(true));
    assert_eq!(
        now.state.as_deref(),
        Some("running"),
        "an update keeps the stream running"
    );
    assert_eq!(calls(&s, "PutMetricStream"), 1, "one Put per update");
    assert!(s.event_reasons("export")?.contains(&"Updated".to_string()));

    s.emulator.reset_calls();
    s.apply_yaml(&changed.replace("team: a", "team: b"))?;
    s.wait_ready("metricstream", "export").await?;
    assert_eq!(
        tags(&cw, "export").await.get("team").map(String::as_str),
        Some("b")
    );
    assert_eq!(
        calls(&s, "PutMetricStream"),
        0,
        "PutMetricStream ignores tags on update: TagResource instead"
    );
    assert_eq!(calls(&s, "TagResource"), 1);
    Ok(())
}

#[tokio::test]
async fn desired_state_is_driven_and_out_of_band_starts_and_stops_are_put_back() -> Result<()> {
    let s = Scenario::start("ms-state").await?;
    let cw = Client::new(&s.sdk);
    create_delivery_stream(&s.sdk, "fh").await?;

    // AWS creates streams running: one wanted stopped is stopped right after.
    s.apply_yaml(&stream("paused", "fh", "  desiredState: Stopped\n"))?;
    s.wait_ready("metricstream", "paused").await?;
    assert_eq!(state(&cw, "paused").await.as_deref(), Some("stopped"));
    assert_eq!(
        s.get("metricstream", "paused")?.unwrap()["status"]["state"],
        "stopped"
    );
    assert_eq!(
        (calls(&s, "PutMetricStream"), calls(&s, "StopMetricStreams")),
        (1, 1)
    );

    // Started out of band: stopped again, with a warning.
    cw.start_metric_streams().names("paused").send().await?;
    wait_state(&s, &cw, "paused", "stopped").await?;
    wait_event(&s, "paused", "DriftCorrected").await?;

    // The spec asks for it running.
    s.apply_yaml(&stream("paused", "fh", "  desiredState: Running\n"))?;
    s.wait_ready("metricstream", "paused").await?;
    wait_state(&s, &cw, "paused", "running").await?;
    wait_event(&s, "paused", "Started").await?;
    s.wait_for("status.state running", Duration::from_secs(10), || {
        Ok(s.get("metricstream", "paused")?
            .filter(|o| o["status"]["state"] == "running")
            .map(|_| ()))
    })
    .await?;

    // Stopped out of band: started again.
    let starts = calls(&s, "StartMetricStreams");
    cw.stop_metric_streams().names("paused").send().await?;
    wait_state(&s, &cw, "paused", "running").await?;
    assert!(calls(&s, "StartMetricStreams") > starts);
    assert_eq!(
        calls(&s, "PutMetricStream"),
        1,
        "state changes never Put the stream"
    );
    Ok(())
}

#[tokio::test]
async fn starting_and_stopping_many_streams_shares_calls() -> Result<()> {
    // Without client-side rate limits the reconciles run side by side, as they do when AWS's
    // quota is not the bottleneck.
    let options = OperatorOptions {
        extra_args: vec!["--no-aws-rate-limits".into()],
        ..Default::default()
    };
    let mut s = Scenario::start_with("ms-batch", EmulatorConfig::default(), options).await?;
    let cw = Client::new(&s.sdk);
    create_delivery_stream(&s.sdk, "fh").await?;
    let names: Vec<String> = (0..6).map(|i| format!("fleet-{i}")).collect();
    let all = |extra: &str| {
        names
            .iter()
            .map(|n| stream(n, "fh", extra))
            .collect::<Vec<_>>()
            .join("---\n")
    };
    s.apply_yaml(&all(""))?;
    for n in &names {
        s.wait_ready("metricstream", n).await?;
    }

    // Edit every stream while the operator is down; the restart reconciles them together.
    s.operator().terminate(Duration::from_secs(10));
    s.apply_yaml(&all("  desiredState: Stopped\n"))?;
    s.emulator.reset_calls();
    s.start_operator()?;
    for n in &names {
        wait_state(&s, &cw, n, "stopped").await?;
    }
    let stops = calls(&s, "StopMetricStreams");
    cwo_e2e::report(&format!(
        "  ok  {} metric streams stopped with {stops} StopMetricStreams call(s)",
        names.len()
    ));
    assert!(
        stops < names.len() as u64,
        "{stops} StopMetricStreams calls for {} streams",
        names.len()
    );
    assert_eq!(calls(&s, "PutMetricStream"), 0);
    Ok(())
}

#[tokio::test]
async fn a_missing_firehose_blocks_the_stream_until_it_exists() -> Result<()> {
    let s = Scenario::start("ms-firehose").await?;
    let cw = Client::new(&s.sdk);
    s.apply_yaml(&stream("waiting", "late", ""))?;
    let (status, reason, message) = s
        .wait_for("DependencyNotReady", Duration::from_secs(30), || {
            Ok(s.condition("metricstream", "waiting", "Ready")?
                .filter(|c| c.1 == "DependencyNotReady"))
        })
        .await?;
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "DependencyNotReady")
    );
    assert!(
        message.contains("\"late\"") && message.contains("does not exist"),
        "{message}"
    );
    assert_eq!(
        s.aws_writes(),
        0,
        "nothing is written before the destination exists"
    );
    assert!(get(&cw, "waiting").await.is_none());

    create_delivery_stream(&s.sdk, "late").await?;
    s.wait_ready("metricstream", "waiting").await?;
    assert!(get(&cw, "waiting").await.is_some());

    // The destination deleted later: the stream reports it on the next resync.
    aws_sdk_firehose::Client::new(&s.sdk)
        .delete_delivery_stream()
        .delivery_stream_name("late")
        .send()
        .await?;
    let message = s
        .wait_condition(
            "metricstream",
            "waiting",
            "False",
            Some("DependencyNotReady"),
        )
        .await?;
    assert!(message.contains("does not exist"), "{message}");
    Ok(())
}

#[tokio::test]
async fn a_crash_after_create_before_the_status_write_leaves_one_stream_and_ends_ready()
-> Result<()> {
    let crashing = OperatorOptions {
        env: vec![(CRASH_AFTER_ENV.into(), "PutMetricStream".into())],
        ..Default::default()
    };
    let mut s = Scenario::without_operator("ms-crash", EmulatorConfig::default(), crashing)?;
    let cw = Client::new(&s.sdk);
    create_delivery_stream(&s.sdk, "fh").await?;
    s.start_operator()?;
    // Stopped, so the restart also has to finish what the crash interrupted: the stop.
    s.apply_yaml(&stream("survivor", "fh", "  desiredState: Stopped\n"))?;
    s.wait_operator_exit(Duration::from_secs(60)).await?;
    assert_eq!(calls(&s, "PutMetricStream"), 1);
    assert_eq!(
        state(&cw, "survivor").await.as_deref(),
        Some("running"),
        "crashed before the stop"
    );
    let obj = s.get("metricstream", "survivor")?.unwrap();
    assert!(
        obj["status"]["conditions"].is_null(),
        "no status was written: {}",
        obj["status"]
    );

    s.set_operator_options(OperatorOptions::default());
    s.emulator.reset_calls();
    s.start_operator()?;
    s.wait_ready("metricstream", "survivor").await?;
    wait_state(&s, &cw, "survivor", "stopped").await?;
    let listed = cw.list_metric_streams().send().await?;
    assert_eq!(listed.entries().len(), 1, "no duplicate stream");
    assert_eq!(
        calls(&s, "PutMetricStream"),
        0,
        "the stream found after the restart is ours and in sync"
    );
    assert_eq!(calls(&s, "StopMetricStreams"), 1);

    // No error loop: nothing more is written and no error was reported.
    s.emulator.reset_calls();
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(s.aws_writes(), 0);
    let reasons = s.event_reasons("survivor")?;
    assert!(
        !reasons
            .iter()
            .any(|r| r == "AlreadyExistsUnowned" || r == "AwsUnavailable" || r == "InvalidSpec"),
        "{reasons:?}"
    );
    Ok(())
}

#[tokio::test]
async fn drift_is_put_back_and_a_stream_deleted_out_of_band_is_recreated() -> Result<()> {
    let s = Scenario::start("ms-drift").await?;
    let cw = Client::new(&s.sdk);
    create_delivery_stream(&s.sdk, "fh").await?;
    s.apply_yaml(&stream("drifty", "fh", ""))?;
    s.wait_ready("metricstream", "drifty").await?;

    cw.put_metric_stream()
        .name("drifty")
        .firehose_arn(firehose_arn("fh"))
        .role_arn(ROLE)
        .output_format(aws_sdk_cloudwatch::types::MetricStreamOutputFormat::OpenTelemetry10)
        .send()
        .await?;
    eventually(&s, "drift put back", Duration::from_secs(30), || async {
        get(&cw, "drifty").await.filter(|g| {
            g.output_format.as_ref().map(|f| f.as_str()) == Some("json")
                && g.include_filters().len() == 1
        })
    })
    .await?;
    wait_event(&s, "drifty", "DriftCorrected").await?;

    cw.delete_metric_stream().name("drifty").send().await?;
    eventually(&s, "stream recreated", Duration::from_secs(30), || {
        get(&cw, "drifty")
    })
    .await?;
    wait_event(&s, "drifty", "Recreated").await?;
    Ok(())
}

#[tokio::test]
async fn delete_removes_the_stream_and_retain_leaves_it() -> Result<()> {
    let s = Scenario::start("ms-delete").await?;
    let cw = Client::new(&s.sdk);
    create_delivery_stream(&s.sdk, "fh").await?;
    s.apply_yaml(&stream("gone", "fh", ""))?;
    s.apply_yaml(&stream("kept", "fh", "  deletionPolicy: Retain\n"))?;
    s.wait_ready("metricstream", "gone").await?;
    s.wait_ready("metricstream", "kept").await?;
    s.kubectl(["delete", "metricstream", "gone", "kept", "--wait=false"])?
        .ok()?;
    s.wait_gone("metricstream", "gone").await?;
    s.wait_gone("metricstream", "kept").await?;
    assert!(
        get(&cw, "gone").await.is_none(),
        "Delete removes the stream"
    );
    assert!(get(&cw, "kept").await.is_some(), "Retain leaves the stream");
    Ok(())
}

#[tokio::test]
async fn an_existing_stream_is_adopted_only_when_the_policy_allows() -> Result<()> {
    let s = Scenario::start("ms-adopt").await?;
    let cw = Client::new(&s.sdk);
    create_delivery_stream(&s.sdk, "fh").await?;
    for name in ["theirs", "unowned"] {
        cw.put_metric_stream()
            .name(name)
            .firehose_arn(firehose_arn("fh"))
            .role_arn(ROLE)
            .output_format(aws_sdk_cloudwatch::types::MetricStreamOutputFormat::OpenTelemetry07)
            .send()
            .await?;
    }
    s.emulator.reset_calls();
    s.apply_yaml(&stream("theirs", "fh", ""))?;
    let message = s
        .wait_condition(
            "metricstream",
            "theirs",
            "False",
            Some("AlreadyExistsUnowned"),
        )
        .await?;
    assert!(message.contains("adoption: IfUnowned"), "{message}");
    assert_eq!(s.aws_writes(), 0, "a refused take-over writes nothing");
    assert_eq!(
        get(&cw, "theirs")
            .await
            .unwrap()
            .output_format
            .unwrap()
            .as_str(),
        "opentelemetry0.7"
    );

    s.apply_yaml(&stream("unowned", "fh", "  adoption: IfUnowned\n"))?;
    s.wait_ready("metricstream", "unowned").await?;
    assert_eq!(
        get(&cw, "unowned")
            .await
            .unwrap()
            .output_format
            .unwrap()
            .as_str(),
        "json"
    );
    assert!(
        tags(&cw, "unowned").await.contains_key("cwo.dev/owner"),
        "the adopted stream is tagged as ours"
    );
    assert!(s.event_reasons("unowned")?.contains(&"Adopted".to_string()));

    s.kubectl(["delete", "metricstream", "theirs"])?.ok()?;
    assert!(
        get(&cw, "theirs").await.is_some(),
        "someone else's stream survives"
    );
    Ok(())
}

#[tokio::test]
async fn observe_only_reports_differences_without_writing() -> Result<()> {
    let s = Scenario::start("ms-observe").await?;
    let cw = Client::new(&s.sdk);
    create_delivery_stream(&s.sdk, "fh").await?;
    cw.put_metric_stream()
        .name("watched")
        .firehose_arn(firehose_arn("fh"))
        .role_arn(ROLE)
        .output_format(aws_sdk_cloudwatch::types::MetricStreamOutputFormat::OpenTelemetry10)
        .send()
        .await?;
    s.emulator.reset_calls();
    s.apply_yaml(&stream(
        "watched",
        "fh",
        "  managementPolicy: ObserveOnly\n  desiredState: Stopped\n",
    ))?;
    let message = s
        .wait_condition("metricstream", "watched", "True", Some("Observed"))
        .await?;
    for field in ["outputFormat", "includeFilters", "desiredState"] {
        assert!(message.contains(field), "{field} is reported: {message}");
    }
    let obj = s.get("metricstream", "watched")?.unwrap();
    assert_eq!(obj["status"]["state"], "running");
    assert_eq!(obj["status"]["firehoseDeliveryStreamStatus"], "ACTIVE");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(s.aws_writes(), 0, "ObserveOnly never writes");
    assert_eq!(state(&cw, "watched").await.as_deref(), Some("running"));

    s.apply_yaml(&stream("absent", "fh", "  managementPolicy: ObserveOnly\n"))?;
    s.wait_condition("metricstream", "absent", "False", Some("NotFound"))
        .await?;
    s.kubectl(["delete", "metricstream", "watched"])?.ok()?;
    assert!(
        get(&cw, "watched").await.is_some(),
        "deleting an observer leaves the stream"
    );
    Ok(())
}

#[tokio::test]
async fn a_spec_aws_refuses_ends_in_a_terminal_condition_without_retries() -> Result<()> {
    let s = Scenario::start("ms-terminal").await?;
    create_delivery_stream(&s.sdk, "fh").await?;
    // The delivery stream and the role share an account, so the schema and the operator let
    // the stream through; only CloudWatch knows it is not the stream's own account.
    let other_account = stream("other-account", "fh", "").replace(ACCOUNT, "999999999999");
    s.apply_yaml(&other_account)?;
    let message = s
        .wait_condition(
            "metricstream",
            "other-account",
            "False",
            Some("InvalidSpec"),
        )
        .await?;
    assert!(
        message.contains("PutMetricStream") && message.contains("same account"),
        "AWS's message is shown: {message}"
    );

    // The role in another account than the delivery stream: refused at admission.
    let mixed_accounts =
        stream("cross-account", "fh", "").replace(ROLE, "arn:aws:iam::999999999999:role/r");
    let refused = s.apply_yaml(&mixed_accounts).unwrap_err();
    assert!(
        format!("{refused:#}").contains("firehoseArn and roleArn must be in the same AWS account"),
        "{refused:#}"
    );

    let puts = calls(&s, "PutMetricStream");
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(
        calls(&s, "PutMetricStream"),
        puts,
        "a terminal error is not retried"
    );
    let warnings = s
        .event_reasons("other-account")?
        .iter()
        .filter(|r| *r == "InvalidSpec")
        .count();
    assert_eq!(warnings, 1, "one Warning event, not one per retry");
    Ok(())
}
