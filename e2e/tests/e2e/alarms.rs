//! Alarm end to end: the real operator binary on the real API server, against the emulator
//! through the real AWS SDK.

use anyhow::Result;
use aws_sdk_cloudwatch::Client;
use cwo_e2e::operator::{OperatorOptions, Scenario};
use cwo_emulator::EmulatorConfig;
use std::collections::BTreeMap;
use std::time::Duration;

fn alarm(name: &str, extra: &str) -> String {
    format!(
        r#"apiVersion: cwo.dev/v1alpha1
kind: Alarm
metadata:
  name: {name}
spec:
  metricName: CPUUtilization
  namespace: AWS/EC2
  statistic: Average
  period: 60
  evaluationPeriods: 3
  threshold: 80
  comparisonOperator: GreaterThanThreshold
  dimensions:
    - name: InstanceId
      value: i-0123456789abcdef0
{extra}"#
    )
}

async fn describe(cw: &Client, name: &str) -> Option<aws_sdk_cloudwatch::types::MetricAlarm> {
    cw.describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .unwrap()
        .metric_alarms()
        .first()
        .cloned()
}

async fn tags(cw: &Client, name: &str) -> BTreeMap<String, String> {
    let arn = describe(cw, name).await.unwrap().alarm_arn.unwrap();
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

#[tokio::test]
async fn alarm_is_created_updated_retagged_and_idle_resyncs_write_nothing() -> Result<()> {
    // A one-second resync: the idle stretch below covers a dozen resync periods.
    let s = Scenario::start_with(
        "alarm-lifecycle",
        EmulatorConfig::default(),
        OperatorOptions {
            resync_period: Duration::from_secs(1),
            ..Default::default()
        },
    )
    .await?;
    let cw = Client::new(&s.sdk);
    s.apply_yaml(&alarm("cpu", "  tags:\n    team: web\n"))?;
    s.wait_ready("alarm", "cpu").await?;

    let created = describe(&cw, "cpu")
        .await
        .expect("alarm exists in CloudWatch");
    assert_eq!(created.threshold, Some(80.0));
    let t = tags(&cw, "cpu").await;
    assert_eq!(t.get("team").map(String::as_str), Some("web"));
    let ns = s.namespace().to_string();
    assert_eq!(t.get("cwo.dev/owner"), Some(&format!("e2e/{ns}/Alarm/cpu")));
    let obj = s.get("alarm", "cpu")?.unwrap();
    assert_eq!(obj["status"]["stateValue"], "INSUFFICIENT_DATA");
    assert_eq!(obj["status"]["awsName"], "cpu");
    assert_eq!(obj["status"]["region"], "us-east-1");
    assert!(
        obj["status"]["arn"]
            .as_str()
            .unwrap()
            .ends_with(":alarm:cpu")
    );
    assert_eq!(
        s.emulator.calls().total_of("cloudwatch", "PutMetricAlarm"),
        1
    );

    // Update a scalar, a set and the metric; then tags (TagResource, not the Put).
    s.emulator.reset_calls();
    s.apply_yaml(
        &alarm("cpu", "  tags:\n    team: web\n").replace("threshold: 80", "threshold: 90"),
    )?;
    s.wait_ready("alarm", "cpu").await?;
    assert_eq!(describe(&cw, "cpu").await.unwrap().threshold, Some(90.0));
    assert_eq!(
        s.emulator.calls().total_of("cloudwatch", "PutMetricAlarm"),
        1,
        "one Put per update"
    );

    s.apply_yaml(
        &alarm("cpu", "  tags:\n    owner: sre\n").replace("threshold: 80", "threshold: 90"),
    )?;
    s.wait_ready("alarm", "cpu").await?;
    let t = tags(&cw, "cpu").await;
    assert_eq!(t.get("owner").map(String::as_str), Some("sre"));
    assert!(!t.contains_key("team"), "removed tag is untagged: {t:?}");
    assert_eq!(
        s.emulator.calls().total_of("cloudwatch", "PutMetricAlarm"),
        1,
        "a tag-only change does not Put the alarm (PutMetricAlarm ignores tags on update)"
    );

    // Idle: a dozen resync periods without a single AWS write or status write.
    let status_writes_before = s.status_writes("Alarm")?;
    s.emulator.reset_calls();
    tokio::time::sleep(Duration::from_secs(12)).await;
    let calls = s.emulator.calls();
    assert_eq!(calls.writes(), 0, "idle resyncs made AWS writes: {calls:?}");
    assert!(
        calls.total_of("cloudwatch", "DescribeAlarms") >= 8,
        "resyncs re-read the alarm: {calls:?}"
    );
    assert_eq!(
        s.status_writes("Alarm")?,
        status_writes_before,
        "idle resyncs wrote status"
    );
    Ok(())
}

#[tokio::test]
async fn drift_is_put_back_and_an_alarm_deleted_out_of_band_is_recreated() -> Result<()> {
    let s = Scenario::start("alarm-drift").await?;
    let cw = Client::new(&s.sdk);
    s.apply_yaml(&alarm("drifty", ""))?;
    s.wait_ready("alarm", "drifty").await?;

    cw.put_metric_alarm()
        .alarm_name("drifty")
        .metric_name("CPUUtilization")
        .namespace("AWS/EC2")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Maximum)
        .period(300)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::LessThanThreshold)
        .send()
        .await?;
    s.wait_until("drift put back", Duration::from_secs(30), || async {
        let a = describe(&cw, "drifty").await;
        Ok(
            a.filter(|a| a.threshold == Some(80.0) && a.period == Some(60))
                .map(|_| ()),
        )
    })
    .await?;
    s.wait_for("DriftCorrected event", Duration::from_secs(20), || {
        Ok(s.event_reasons("drifty")?
            .contains(&"DriftCorrected".to_string())
            .then_some(()))
    })
    .await?;

    cw.delete_alarms().alarm_names("drifty").send().await?;
    s.wait_until("alarm recreated", Duration::from_secs(30), || async {
        Ok(describe(&cw, "drifty").await.map(|_| ()))
    })
    .await?;
    s.wait_for("Recreated event", Duration::from_secs(20), || {
        Ok(s.event_reasons("drifty")?
            .contains(&"Recreated".to_string())
            .then_some(()))
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn delete_removes_the_alarm_and_retain_leaves_it() -> Result<()> {
    let s = Scenario::start("alarm-delete").await?;
    let cw = Client::new(&s.sdk);
    s.apply_yaml(&alarm("gone", ""))?;
    s.apply_yaml(&alarm("kept", "  deletionPolicy: Retain\n"))?;
    s.wait_ready("alarm", "gone").await?;
    s.wait_ready("alarm", "kept").await?;
    s.kubectl(["delete", "alarm", "gone", "kept", "--wait=false"])?
        .ok()?;
    s.wait_gone("alarm", "gone").await?;
    s.wait_gone("alarm", "kept").await?;
    assert!(
        describe(&cw, "gone").await.is_none(),
        "Delete removes the AWS alarm"
    );
    assert!(
        describe(&cw, "kept").await.is_some(),
        "Retain leaves the AWS alarm"
    );
    Ok(())
}

#[tokio::test]
async fn an_existing_alarm_is_adopted_only_when_the_policy_allows() -> Result<()> {
    let s = Scenario::start("alarm-adopt").await?;
    let cw = Client::new(&s.sdk);
    for name in ["theirs", "unowned"] {
        cw.put_metric_alarm()
            .alarm_name(name)
            .metric_name("CPUUtilization")
            .namespace("AWS/EC2")
            .statistic(aws_sdk_cloudwatch::types::Statistic::Average)
            .period(60)
            .evaluation_periods(1)
            .threshold(5.0)
            .comparison_operator(
                aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold,
            )
            .send()
            .await?;
    }
    s.emulator.reset_calls();
    s.apply_yaml(&alarm("theirs", ""))?;
    let message = s
        .wait_condition("alarm", "theirs", "False", Some("AlreadyExistsUnowned"))
        .await?;
    assert!(message.contains("adoption: IfUnowned"), "{message}");
    assert_eq!(
        describe(&cw, "theirs").await.unwrap().threshold,
        Some(5.0),
        "not overwritten"
    );
    assert_eq!(s.aws_writes(), 0, "a refused take-over writes nothing");

    s.apply_yaml(&alarm("unowned", "  adoption: IfUnowned\n"))?;
    s.wait_ready("alarm", "unowned").await?;
    assert_eq!(
        describe(&cw, "unowned").await.unwrap().threshold,
        Some(80.0)
    );
    assert!(
        tags(&cw, "unowned").await.contains_key("cwo.dev/owner"),
        "adopted alarm is tagged as ours"
    );
    assert!(s.event_reasons("unowned")?.contains(&"Adopted".to_string()));

    // Deleting the refused object must not delete someone else's alarm.
    s.kubectl(["delete", "alarm", "theirs"])?.ok()?;
    assert!(
        describe(&cw, "theirs").await.is_some(),
        "someone else's alarm survives"
    );
    Ok(())
}

#[tokio::test]
async fn observe_only_reports_without_writing() -> Result<()> {
    let s = Scenario::start("alarm-observe").await?;
    let cw = Client::new(&s.sdk);
    cw.put_metric_alarm()
        .alarm_name("watched")
        .metric_name("CPUUtilization")
        .namespace("AWS/EC2")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Average)
        .period(60)
        .evaluation_periods(3)
        .threshold(50.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .send()
        .await?;
    cw.set_alarm_state()
        .alarm_name("watched")
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason("test fired it")
        .send()
        .await?;
    s.emulator.reset_calls();
    s.apply_yaml(&alarm("watched", "  managementPolicy: ObserveOnly\n"))?;
    let message = s
        .wait_condition("alarm", "watched", "True", Some("Observed"))
        .await?;
    assert!(
        message.contains("threshold"),
        "differences are reported: {message}"
    );
    let obj = s.get("alarm", "watched")?.unwrap();
    assert_eq!(obj["status"]["stateValue"], "ALARM");
    assert_eq!(obj["status"]["stateReason"], "test fired it");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(s.aws_writes(), 0, "ObserveOnly never writes");
    assert_eq!(
        describe(&cw, "watched").await.unwrap().threshold,
        Some(50.0)
    );

    s.apply_yaml(&alarm("absent", "  managementPolicy: ObserveOnly\n"))?;
    s.wait_condition("alarm", "absent", "False", Some("NotFound"))
        .await?;
    s.kubectl(["delete", "alarm", "watched"])?.ok()?;
    assert!(
        describe(&cw, "watched").await.is_some(),
        "deleting an observer leaves the alarm"
    );
    Ok(())
}

#[tokio::test]
async fn a_spec_aws_refuses_ends_in_a_terminal_condition_without_retries() -> Result<()> {
    let s = Scenario::start_with(
        "alarm-terminal",
        EmulatorConfig::default(),
        OperatorOptions {
            resync_period: Duration::from_secs(2),
            ..Default::default()
        },
    )
    .await?;
    // The schema leaves the returnData rule of an anomaly detection alarm to CloudWatch (the
    // watched metric and its band may both return data); a third series returning data is
    // more than CloudWatch takes.
    s.apply_yaml(
        r#"apiVersion: cwo.dev/v1alpha1
kind: Alarm
metadata:
  name: bad-band
spec:
  metrics:
    - id: m1
      metricStat:
        metric: {namespace: AWS/EC2, metricName: CPUUtilization}
        period: 60
        stat: Average
    - id: m2
      metricStat:
        metric: {namespace: AWS/EC2, metricName: NetworkIn}
        period: 60
        stat: Sum
    - id: band
      expression: "ANOMALY_DETECTION_BAND(m1, 2)"
  thresholdMetricId: band
  comparisonOperator: LessThanLowerOrGreaterThanUpperThreshold
  evaluationPeriods: 2
"#,
    )?;
    let message = s
        .wait_condition("alarm", "bad-band", "False", Some("InvalidSpec"))
        .await?;
    assert!(
        message.contains("PutMetricAlarm"),
        "AWS's message is shown: {message}"
    );
    let puts = s.emulator.calls().total_of("cloudwatch", "PutMetricAlarm");
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(
        s.emulator.calls().total_of("cloudwatch", "PutMetricAlarm"),
        puts,
        "a terminal error is not retried"
    );
    let warnings = s
        .event_reasons("bad-band")?
        .iter()
        .filter(|r| *r == "InvalidSpec")
        .count();
    assert_eq!(warnings, 1, "one Warning event, not one per retry");
    Ok(())
}

#[tokio::test]
async fn a_metric_math_expression_cloudwatch_cannot_parse_ends_invalid_spec_without_retries()
-> Result<()> {
    let s = Scenario::start_with(
        "alarm-bad-expression",
        EmulatorConfig::default(),
        OperatorOptions {
            resync_period: Duration::from_secs(2),
            ..Default::default()
        },
    )
    .await?;
    let cw = Client::new(&s.sdk);
    // Admission does not parse metric math; CloudWatch does, at PutMetricAlarm.
    s.apply_yaml(
        r#"apiVersion: cwo.dev/v1alpha1
kind: Alarm
metadata:
  name: bad-expression
spec:
  metrics:
    - id: m1
      metricStat:
        metric: {namespace: AWS/ApplicationELB, metricName: HTTPCode_Target_5XX_Count}
        period: 60
        stat: Sum
      returnData: false
    - id: e1
      expression: "FOO(bar"
      returnData: true
  threshold: 10
  comparisonOperator: GreaterThanThreshold
  evaluationPeriods: 2
"#,
    )?;
    let message = s
        .wait_condition("alarm", "bad-expression", "False", Some("InvalidSpec"))
        .await?;
    assert!(
        message.contains(
            "PutMetricAlarm: Invalid metrics list: error in the expression of 'e1' [Unexpected \
             end of expression, must be: ',' or ')' at char 7]"
        ),
        "AWS's message is shown: {message}"
    );
    assert!(
        describe(&cw, "bad-expression").await.is_none(),
        "nothing was created"
    );
    let puts = s.emulator.calls().total_of("cloudwatch", "PutMetricAlarm");
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(
        s.emulator.calls().total_of("cloudwatch", "PutMetricAlarm"),
        puts,
        "a terminal error is not retried across five resync periods"
    );
    let warnings = s
        .event_reasons("bad-expression")?
        .iter()
        .filter(|r| *r == "InvalidSpec")
        .count();
    assert_eq!(warnings, 1, "one Warning event, not one per retry");

    // Fixing the expression is what brings it back.
    s.apply_yaml(
        r#"apiVersion: cwo.dev/v1alpha1
kind: Alarm
metadata:
  name: bad-expression
spec:
  metrics:
    - id: m1
      metricStat:
        metric: {namespace: AWS/ApplicationELB, metricName: HTTPCode_Target_5XX_Count}
        period: 60
        stat: Sum
      returnData: false
    - id: e1
      expression: "FILL(m1, 0) * 100"
      returnData: true
  threshold: 10
  comparisonOperator: GreaterThanThreshold
  evaluationPeriods: 2
"#,
    )?;
    s.wait_ready("alarm", "bad-expression").await?;
    let alarm = describe(&cw, "bad-expression")
        .await
        .expect("the fixed alarm exists");
    let e1 = alarm.metrics().iter().find(|m| m.id() == Some("e1"));
    assert_eq!(e1.and_then(|m| m.expression()), Some("FILL(m1, 0) * 100"));
    Ok(())
}
