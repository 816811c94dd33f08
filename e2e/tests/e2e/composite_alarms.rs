//! CompositeAlarm end to end: ordering against its children on create and delete, cycles, the
//! structured rule with Alarm references, AT_LEAST in both forms, and the examples.

use anyhow::Result;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::AlarmType;
use cwo_e2e::operator::Scenario;
use std::time::Duration;

fn child(name: &str) -> String {
    format!(
        r#"apiVersion: cwo.dev/v1alpha1
kind: Alarm
metadata:
  name: {name}
spec:
  metricName: Errors
  namespace: App
  statistic: Sum
  period: 60
  evaluationPeriods: 1
  threshold: 1
  comparisonOperator: GreaterThanOrEqualToThreshold
"#
    )
}

const COMPOSITE: &str = r#"apiVersion: cwo.dev/v1alpha1
kind: CompositeAlarm
metadata:
  name: both
spec:
  rule:
    allOf:
      - alarm: {alarmRef: errors-a}
      - alarm: {alarmRef: errors-b}
"#;

async fn exists(cw: &Client, name: &str) -> bool {
    let out = cw
        .describe_alarms()
        .alarm_names(name)
        .alarm_types(AlarmType::MetricAlarm)
        .alarm_types(AlarmType::CompositeAlarm)
        .send()
        .await
        .unwrap();
    !out.metric_alarms().is_empty() || !out.composite_alarms().is_empty()
}

#[tokio::test]
async fn a_composite_applied_before_its_alarms_waits_then_succeeds_and_is_deleted_first()
-> Result<()> {
    let s = Scenario::start("composite-order").await?;
    let cw = Client::new(&s.sdk);
    s.apply_yaml(COMPOSITE)?;
    let message = s
        .wait_condition(
            "compositealarm",
            "both",
            "False",
            Some("DependencyNotReady"),
        )
        .await?;
    assert!(
        message.contains("errors-a") && message.contains("errors-b"),
        "{message}"
    );
    assert_eq!(
        s.emulator
            .calls()
            .total_of("cloudwatch", "PutCompositeAlarm"),
        0
    );

    s.apply_yaml(&child("errors-a"))?;
    s.apply_yaml(&child("errors-b"))?;
    s.wait_ready("compositealarm", "both").await?;
    let obj = s.get("compositealarm", "both")?.unwrap();
    assert_eq!(
        obj["status"]["resolvedAlarmRule"],
        r#"ALARM("errors-a") AND ALARM("errors-b")"#
    );
    assert_eq!(
        obj["status"]["resolvedChildren"],
        serde_json::json!(["errors-a", "errors-b"])
    );
    let puts = s
        .emulator
        .calls()
        .operation("cloudwatch", "PutCompositeAlarm");
    assert_eq!(
        puts.ok, 1,
        "written once, after its children existed: {puts:?}"
    );
    assert_eq!(
        puts.total, 1,
        "never sent while a child was missing: {puts:?}"
    );

    // Delete everything at once: the composite goes first, its children after.
    s.kubectl(["delete", "alarm,compositealarm", "--all", "--wait=false"])?
        .ok()?;
    for (kind, name) in [
        ("compositealarm", "both"),
        ("alarm", "errors-a"),
        ("alarm", "errors-b"),
    ] {
        s.wait_gone(kind, name).await?;
    }
    for name in ["both", "errors-a", "errors-b"] {
        assert!(!exists(&cw, name).await, "{name} is gone from CloudWatch");
    }
    let deletes = s.emulator.calls().operation("cloudwatch", "DeleteAlarms");
    assert_eq!(
        deletes.errors.get("ValidationError"),
        None,
        "no child was deleted while named: {deletes:?}"
    );
    Ok(())
}

#[tokio::test]
async fn an_alarm_named_by_a_composite_waits_for_the_composite_to_let_go() -> Result<()> {
    let s = Scenario::start("composite-child-wait").await?;
    let cw = Client::new(&s.sdk);
    s.apply_yaml(&child("errors-a"))?;
    s.apply_yaml(&child("errors-b"))?;
    s.apply_yaml(COMPOSITE)?;
    s.wait_ready("compositealarm", "both").await?;
    s.kubectl(["delete", "alarm", "errors-a", "--wait=false"])?
        .ok()?;
    let message = s
        .wait_condition("alarm", "errors-a", "False", Some("DependencyNotReady"))
        .await?;
    assert!(
        message.contains("both"),
        "the condition names the composite: {message}"
    );
    assert!(exists(&cw, "errors-a").await);

    // Once the composite no longer names it, the alarm is deleted.
    s.apply_yaml(
        r#"apiVersion: cwo.dev/v1alpha1
kind: CompositeAlarm
metadata:
  name: both
spec:
  rule:
    alarm: {alarmRef: errors-b}
"#,
    )?;
    s.wait_gone("alarm", "errors-a").await?;
    assert!(!exists(&cw, "errors-a").await);
    Ok(())
}

#[tokio::test]
async fn a_cycle_between_composites_is_refused_before_aws_sees_it() -> Result<()> {
    let s = Scenario::start("composite-cycle").await?;
    s.apply_yaml(&child("errors-a"))?;
    s.wait_ready("alarm", "errors-a").await?;
    s.apply_yaml(
        r#"apiVersion: cwo.dev/v1alpha1
kind: CompositeAlarm
metadata:
  name: left
spec:
  alarmRule: ALARM("errors-a") OR ALARM("right")
---
apiVersion: cwo.dev/v1alpha1
kind: CompositeAlarm
metadata:
  name: right
spec:
  alarmRule: ALARM("left")
"#,
    )?;
    for name in ["left", "right"] {
        let message = s
            .wait_condition("compositealarm", name, "False", Some("InvalidSpec"))
            .await?;
        assert!(message.contains("cycle"), "{message}");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        s.emulator
            .calls()
            .total_of("cloudwatch", "PutCompositeAlarm"),
        0
    );
    Ok(())
}

#[tokio::test]
async fn the_alarm_examples_become_ready_with_live_state() -> Result<()> {
    let s = Scenario::start("alarm-examples").await?;
    for file in [
        "examples/alarm-cpu.yaml",
        "examples/alarm-metric-math.yaml",
        "examples/alarm-anomaly-band.yaml",
        "examples/composite-alarm.yaml",
    ] {
        s.apply_file(file)?;
    }
    let out = s
        .kubectl(["get", "alarms,compositealarms", "-o", "json"])?
        .ok()?;
    let list: serde_json::Value = serde_json::from_str(&out.stdout)?;
    let objects: Vec<(String, String)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["kind"].as_str().unwrap().to_lowercase(),
                o["metadata"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(objects.len() >= 6, "{objects:?}");
    for (kind, name) in &objects {
        s.wait_ready(kind, name).await?;
        let obj = s.get(kind, name)?.unwrap();
        assert!(
            obj["status"]["stateValue"].is_string(),
            "{kind}/{name} shows its live state"
        );
    }
    let table = s.kubectl(["get", "cloudwatch"])?.ok()?.stdout;
    cwo_e2e::report(&format!(
        "kubectl get cloudwatch after applying the alarm examples:\n{table}"
    ));
    Ok(())
}

#[tokio::test]
async fn a_rule_naming_an_alarm_of_another_region_ends_invalid_spec_without_retries() -> Result<()>
{
    let s = Scenario::start("composite-other-region").await?;
    let cw = Client::new(&s.sdk);
    s.apply_yaml(&child("errors-a"))?;
    s.wait_ready("alarm", "errors-a").await?;
    // The schema takes any alarm ARN, and an alarm of that name exists in the operator's
    // region; CloudWatch wants every child in the composite's own account and region.
    s.apply_yaml(
        r#"apiVersion: cwo.dev/v1alpha1
kind: CompositeAlarm
metadata:
  name: elsewhere
spec:
  alarmRule: 'ALARM("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:errors-a")'
"#,
    )?;
    let message = s
        .wait_condition("compositealarm", "elsewhere", "False", Some("InvalidSpec"))
        .await?;
    assert!(
        message.contains(
            "PutCompositeAlarm: Could not save the composite alarm as alarms \
             [arn:aws:cloudwatch:eu-west-1:123456789012:alarm:errors-a] in the alarm rule do \
             not exist"
        ),
        "AWS's message is shown: {message}"
    );
    assert!(!exists(&cw, "elsewhere").await);
    let puts = s
        .emulator
        .calls()
        .total_of("cloudwatch", "PutCompositeAlarm");
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(
        s.emulator
            .calls()
            .total_of("cloudwatch", "PutCompositeAlarm"),
        puts,
        "a terminal error is not retried"
    );
    Ok(())
}

#[tokio::test]
async fn an_at_least_rule_waits_for_its_alarm_objects_becomes_ready_and_stays_written_once()
-> Result<()> {
    let s = Scenario::start("composite-at-least").await?;
    let cw = Client::new(&s.sdk);
    // An alarm no object manages, named by alarmNames.
    cw.put_metric_alarm()
        .alarm_name("legacy-errors")
        .namespace("App")
        .metric_name("Errors")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(
            aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanOrEqualToThreshold,
        )
        .send()
        .await?;
    s.apply_yaml(
        r#"apiVersion: cwo.dev/v1alpha1
kind: CompositeAlarm
metadata:
  name: two-of-three
spec:
  rule:
    atLeast:
      count: 2
      alarmRefs: [errors-a, errors-b]
      alarmNames: [legacy-errors]
---
apiVersion: cwo.dev/v1alpha1
kind: CompositeAlarm
metadata:
  name: half-not-ok
spec:
  alarmRule: 'AT_LEAST(50%, NOT OK, ("errors-a", errors-b)) OR ALARM("legacy-errors")'
"#,
    )?;
    // The Alarm objects an atLeast lists are children like any other: waited for.
    let message = s
        .wait_condition(
            "compositealarm",
            "two-of-three",
            "False",
            Some("DependencyNotReady"),
        )
        .await?;
    assert!(
        message.contains("errors-a") && message.contains("errors-b"),
        "{message}"
    );
    assert_eq!(
        s.emulator
            .calls()
            .total_of("cloudwatch", "PutCompositeAlarm"),
        0,
        "nothing sent while a listed alarm was missing"
    );

    s.apply_yaml(&child("errors-a"))?;
    s.apply_yaml(&child("errors-b"))?;
    let expected = [
        (
            "two-of-three",
            "AT_LEAST(2, ALARM, (errors-a, errors-b, legacy-errors))",
        ),
        (
            "half-not-ok",
            r#"AT_LEAST(50%, NOT OK, (errors-a, errors-b)) OR ALARM("legacy-errors")"#,
        ),
    ];
    for (name, rule) in expected {
        s.wait_ready("compositealarm", name).await?;
        let obj = s.get("compositealarm", name)?.unwrap();
        assert_eq!(obj["status"]["resolvedAlarmRule"], rule, "{name}");
        assert_eq!(
            obj["status"]["resolvedChildren"],
            serde_json::json!(["errors-a", "errors-b", "legacy-errors"]),
            "{name}"
        );
        let stored = cw
            .describe_alarms()
            .alarm_names(name)
            .alarm_types(AlarmType::CompositeAlarm)
            .send()
            .await?;
        assert_eq!(
            stored.composite_alarms()[0].alarm_rule(),
            Some(rule),
            "CloudWatch holds the rule as sent"
        );
    }
    // The rule CloudWatch reports reads back as the one desired: resyncs write nothing more.
    let puts = s
        .emulator
        .calls()
        .operation("cloudwatch", "PutCompositeAlarm");
    assert_eq!(puts.ok, 2, "each composite written once: {puts:?}");
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(
        s.emulator
            .calls()
            .total_of("cloudwatch", "PutCompositeAlarm"),
        puts.total,
        "a resync rewrote an AT_LEAST rule"
    );
    Ok(())
}
