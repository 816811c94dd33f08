//! MetricFilter, and alarms on its metric, end to end: the real operator binary on the real API
//! server, against the emulator through the real AWS SDK. Log groups and foreign filters are made
//! in the emulator first, as a user (or another tool) makes them in AWS.

use anyhow::Result;
use aws_sdk_cloudwatch::types::AlarmType;
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::{MetricFilter, MetricTransformation};
use cwo_e2e::logs_scenario::{
    self, ERROR_REASONS, LogGroupFilter, Seed, logs_calls, restart_after_crash,
};
use cwo_e2e::operator::create_log_group;
use std::time::Duration;

/// A MetricFilter counting ERROR lines of `group`, with `extra` spec lines.
fn filter(name: &str, group: &str, extra: &str) -> String {
    format!(
        r#"apiVersion: cwo.dev/v1alpha1
kind: MetricFilter
metadata:
  name: {name}
spec:
  logGroupName: {group}
  filterPattern: ERROR
  metricTransformations:
    - metricName: ErrorLines
      metricNamespace: App
      metricValue: "1"
{extra}"#
    )
}

/// A metric filter someone else put on `group`.
async fn put_foreign(logs: &Client, group: &str, name: &str, pattern: &str) -> Result<()> {
    logs.put_metric_filter()
        .log_group_name(group)
        .filter_name(name)
        .filter_pattern(pattern)
        .metric_transformations(
            MetricTransformation::builder()
                .metric_name("Theirs")
                .metric_namespace("Other")
                .metric_value("1")
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

#[tokio::test]
async fn the_log_alarm_example_waits_for_its_log_group_then_is_ready_from_filter_to_composite_and_idles_without_writes()
-> Result<()> {
    let (s, logs) = logs_scenario::start("mf-example", Seed::default()).await?;
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&s.sdk);
    s.apply_file("examples/log-error-alarm.yaml")?;

    // No log group yet: the filter waits for it, the alarm for the filter, the composite for
    // the alarm. Nothing crash-loops.
    let message = s
        .wait_condition(
            "metricfilter",
            "checkout-error-lines",
            "False",
            Some("DependencyNotReady"),
        )
        .await?;
    assert!(message.contains("/aws/lambda/checkout"), "{message}");
    let message = s
        .wait_condition(
            "alarm",
            "checkout-error-lines-high",
            "False",
            Some("DependencyNotReady"),
        )
        .await?;
    assert!(
        message.contains("MetricFilter") && message.contains("checkout-error-lines"),
        "{message}"
    );
    // The tests ran before the log group existed: they need none.
    let obj = s.get("metricfilter", "checkout-error-lines")?.unwrap();
    assert_eq!(
        obj["status"]["tests"]["summary"], "3/3 passed",
        "{}",
        obj["status"]
    );
    assert_eq!(
        logs_calls(&s, "PutMetricFilter"),
        0,
        "nothing is written before the log group exists"
    );
    // Retries while waiting keep the results: the tests ran once.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(logs_calls(&s, "TestMetricFilter"), 1);

    create_log_group(&s.sdk, "/aws/lambda/checkout").await?;
    s.wait_ready("metricfilter", "checkout-error-lines").await?;
    s.wait_ready("alarm", "checkout-error-lines-high").await?;
    s.wait_ready("compositealarm", "checkout-failing").await?;

    let f = MetricFilter::named(&logs, "/aws/lambda/checkout", "checkout-error-lines")
        .await
        .expect("the metric filter exists in CloudWatch Logs");
    assert_eq!(f.filter_pattern(), Some(r#"{ $.level = "ERROR" }"#));
    let t = &f.metric_transformations()[0];
    assert_eq!(
        (t.metric_namespace(), t.metric_name(), t.default_value()),
        ("Checkout", "CheckoutErrorLines", Some(0.0))
    );
    // The alarm watches the filter's metric.
    let alarm = cloudwatch
        .describe_alarms()
        .alarm_names("checkout-error-lines-high")
        .send()
        .await?;
    let alarm = &alarm.metric_alarms()[0];
    assert_eq!(
        (alarm.namespace(), alarm.metric_name()),
        (Some("Checkout"), Some("CheckoutErrorLines"))
    );
    let obj = s.get("metricfilter", "checkout-error-lines")?.unwrap();
    let status = &obj["status"];
    assert_eq!(status["awsName"], "checkout-error-lines");
    assert_eq!(status["ownership"]["origin"], "Created");
    assert_eq!(status["ownership"]["ownerUid"], obj["metadata"]["uid"]);
    assert!(status["creationTime"].is_string(), "{status}");
    assert_eq!(
        status["tests"]["observedGeneration"],
        obj["metadata"]["generation"]
    );
    assert_eq!(
        status["tests"]["results"][1],
        serde_json::json!({"index": 1, "expected": "no match", "actual": "no match", "passed": true})
    );

    // Idle: several resync periods (3 s each) without an AWS write, a repeated test or a
    // status write.
    let status_writes_before = s.status_writes("MetricFilter")?;
    s.emulator.reset_calls();
    tokio::time::sleep(Duration::from_secs(12)).await;
    let calls = s.emulator.calls();
    assert_eq!(calls.writes(), 0, "idle resyncs made AWS writes: {calls:?}");
    assert!(
        calls.total_of("logs", "DescribeMetricFilters") >= 3,
        "resyncs re-read the filter: {calls:?}"
    );
    assert_eq!(
        calls.total_of("logs", "TestMetricFilter"),
        0,
        "the tests run again only when the spec changes: {calls:?}"
    );
    assert_eq!(
        s.status_writes("MetricFilter")?,
        status_writes_before,
        "idle resyncs wrote status"
    );

    // Deleting the filter first: it waits while the alarm still watches its metric.
    s.kubectl([
        "delete",
        "metricfilter",
        "checkout-error-lines",
        "--wait=false",
    ])?
    .ok()?;
    let message = s
        .wait_for(
            "the filter to wait for its alarm",
            Duration::from_secs(30),
            || {
                Ok(
                    s.condition("metricfilter", "checkout-error-lines", "Ready")?
                        .filter(|(_, reason, _)| reason == "DependencyNotReady")
                        .map(|(_, _, m)| m),
                )
            },
        )
        .await?;
    assert!(message.contains("checkout-error-lines-high"), "{message}");
    assert!(
        MetricFilter::named(&logs, "/aws/lambda/checkout", "checkout-error-lines")
            .await
            .is_some(),
        "the filter stays while an alarm watches it"
    );
    // The rest goes: composite, then alarms, and the filter with them once they are leaving
    // too; nothing is left in AWS.
    s.kubectl(["delete", "compositealarm,alarm", "--all", "--wait=false"])?
        .ok()?;
    s.wait_gone("metricfilter", "checkout-error-lines").await?;
    // Every object, not only the filter's chain: the other alarm waits for the composite and
    // then for its deletion batch, and AWS is read only once all of them are gone.
    s.wait_gone("compositealarm", "checkout-failing").await?;
    s.wait_gone("alarm", "checkout-error-lines-high").await?;
    s.wait_gone("alarm", "checkout-function-errors").await?;
    assert!(
        MetricFilter::on_log_group(&logs, "/aws/lambda/checkout")
            .await
            .is_empty(),
        "the filter is deleted"
    );
    let left = cloudwatch
        .describe_alarms()
        .alarm_types(AlarmType::MetricAlarm)
        .alarm_types(AlarmType::CompositeAlarm)
        .send()
        .await?;
    assert!(
        left.metric_alarms().is_empty() && left.composite_alarms().is_empty(),
        "{left:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_wrong_expectation_in_spec_tests_shows_in_status_writes_nothing_and_is_not_retried()
-> Result<()> {
    let (s, logs) = logs_scenario::start("mf-tests", Seed::log_groups(&["/app/tests"])).await?;
    s.emulator.reset_calls();
    // "WARN disk" matches no ERROR pattern, yet the test expects it to publish 1.
    s.apply_yaml(&filter(
        "errors",
        "/app/tests",
        "  tests:\n    - logEvent: ERROR card declined\n      value: 1\n    - logEvent: WARN disk almost full\n      value: 1\n",
    ))?;
    let message = s
        .wait_condition("metricfilter", "errors", "False", Some("InvalidSpec"))
        .await?;
    assert!(
        message.contains(r#"tests[1] "WARN disk almost full" expects 1 but does not match"#),
        "{message}"
    );
    assert!(!message.contains("tests[0]"), "{message}");
    let obj = s.get("metricfilter", "errors")?.unwrap();
    let tests = &obj["status"]["tests"];
    assert_eq!(tests["summary"], "1/2 passed", "{tests}");
    assert_eq!(tests["results"][1]["passed"], false, "{tests}");
    assert_eq!(tests["results"][1]["actual"], "no match", "{tests}");
    let stalled = s.condition("metricfilter", "errors", "Stalled")?.unwrap();
    assert_eq!(stalled.0, "True", "{stalled:?}");

    // Terminal: no filter in AWS, and neither the write nor the test is repeated.
    assert!(
        MetricFilter::named(&logs, "/app/tests", "errors")
            .await
            .is_none()
    );
    let tested = logs_calls(&s, "TestMetricFilter");
    assert_eq!(tested, 1, "one TestMetricFilter for the spec");
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(logs_calls(&s, "TestMetricFilter"), tested, "not retried");
    assert_eq!(s.aws_writes(), 0, "a failing test writes nothing");
    let warnings = s
        .event_reasons("errors")?
        .iter()
        .filter(|r| *r == "InvalidSpec")
        .count();
    assert_eq!(warnings, 1, "one Warning event, not one per retry");

    // The right expectation: the tests run again, pass, and the filter is written.
    s.apply_yaml(&filter(
        "errors",
        "/app/tests",
        "  tests:\n    - logEvent: ERROR card declined\n      value: 1\n    - logEvent: WARN disk almost full\n      noMatch: true\n",
    ))?;
    s.wait_ready("metricfilter", "errors").await?;
    assert_eq!(logs_calls(&s, "TestMetricFilter"), tested + 1);
    assert!(
        MetricFilter::named(&logs, "/app/tests", "errors")
            .await
            .is_some()
    );
    let obj = s.get("metricfilter", "errors")?.unwrap();
    assert_eq!(obj["status"]["tests"]["summary"], "2/2 passed");

    // A pattern CloudWatch Logs cannot parse is refused by TestMetricFilter: terminal too.
    s.apply_yaml(
        &filter(
            "broken",
            "/app/tests",
            "  tests:\n    - logEvent: x\n      noMatch: true\n",
        )
        .replace("filterPattern: ERROR", "filterPattern: '{ $.level = '"),
    )?;
    s.wait_condition("metricfilter", "broken", "False", Some("InvalidSpec"))
        .await?;
    Ok(())
}

#[tokio::test]
async fn drift_is_put_back_adoption_follows_the_policy_and_observe_only_never_writes() -> Result<()>
{
    let (s, logs) = logs_scenario::start("mf-ownership", Seed::log_groups(&["/app/own"])).await?;
    put_foreign(&logs, "/app/own", "theirs", "THEIRS").await?;
    put_foreign(&logs, "/app/own", "unowned", "OLD").await?;
    s.apply_yaml(&filter("mine", "/app/own", ""))?;
    s.wait_ready("metricfilter", "mine").await?;

    // Drift: someone changes the pattern; the operator puts it back.
    put_foreign(&logs, "/app/own", "mine", "SOMETHING").await?;
    MetricFilter::wait(&s, &logs, "/app/own", "mine", "drift put back", |f| {
        f.is_some_and(|f| f.filter_pattern() == Some("ERROR"))
    })
    .await?;
    s.wait_for("DriftCorrected event", Duration::from_secs(20), || {
        Ok(s.event_reasons("mine")?
            .iter()
            .any(|r| r == "DriftCorrected")
            .then_some(()))
    })
    .await?;

    // Someone else's filter is not taken over without adoption.
    s.emulator.reset_calls();
    s.apply_yaml(&filter("theirs", "/app/own", ""))?;
    let message = s
        .wait_condition(
            "metricfilter",
            "theirs",
            "False",
            Some("AlreadyExistsUnowned"),
        )
        .await?;
    assert!(message.contains("adoption: IfUnowned"), "{message}");
    assert_eq!(logs_calls(&s, "PutMetricFilter"), 0);
    // With IfUnowned it is.
    s.apply_yaml(&filter("unowned", "/app/own", "  adoption: IfUnowned\n"))?;
    s.wait_ready("metricfilter", "unowned").await?;
    let obj = s.get("metricfilter", "unowned")?.unwrap();
    assert_eq!(obj["status"]["ownership"]["origin"], "Adopted");
    assert_eq!(
        MetricFilter::named(&logs, "/app/own", "unowned")
            .await
            .unwrap()
            .filter_pattern(),
        Some("ERROR")
    );

    // ObserveOnly reports differences and writes nothing.
    s.apply_yaml(&filter(
        "watched",
        "/app/own",
        "  filterName: theirs\n  managementPolicy: ObserveOnly\n",
    ))?;
    let message = s
        .wait_condition("metricfilter", "watched", "True", Some("Observed"))
        .await?;
    assert!(message.contains("filterPattern"), "{message}");
    s.emulator.reset_calls();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(s.aws_writes(), 0, "ObserveOnly never writes");

    // Deleting objects that do not own a filter leaves it; the owner's goes with it.
    s.kubectl(["delete", "metricfilter", "theirs", "watched", "mine"])?
        .ok()?;
    for name in ["theirs", "watched", "mine"] {
        s.wait_gone("metricfilter", name).await?;
    }
    assert!(
        MetricFilter::named(&logs, "/app/own", "theirs")
            .await
            .is_some()
    );
    assert!(
        MetricFilter::named(&logs, "/app/own", "mine")
            .await
            .is_none()
    );
    Ok(())
}

#[tokio::test]
async fn a_crash_after_create_before_the_status_write_leaves_one_filter_and_ends_ready()
-> Result<()> {
    let seed = Seed::log_groups(&["/app/crash"]);
    let (mut s, logs) = logs_scenario::crashing_after("mf-crash", "PutMetricFilter", seed).await?;
    s.apply_yaml(&filter(
        "survivor",
        "/app/crash",
        "  tests:\n    - logEvent: ERROR x\n      value: 1\n",
    ))?;
    s.wait_operator_exit(Duration::from_secs(60)).await?;
    assert_eq!(logs_calls(&s, "PutMetricFilter"), 1);
    assert!(
        MetricFilter::named(&logs, "/app/crash", "survivor")
            .await
            .is_some(),
        "the create went through"
    );
    let obj = s.get("metricfilter", "survivor")?.unwrap();
    assert!(
        obj["status"]["conditions"].is_null(),
        "the runtime's status write never happened: {}",
        obj["status"]
    );

    restart_after_crash(&mut s)?;
    let message = s
        .wait_condition("metricfilter", "survivor", "True", Some("Available"))
        .await?;
    assert!(message.contains("matches the spec"), "{message}");
    assert_eq!(
        MetricFilter::on_log_group(&logs, "/app/crash").await.len(),
        1,
        "no duplicate filter"
    );
    assert_eq!(
        logs_calls(&s, "PutMetricFilter"),
        0,
        "the filter found after the restart is recognised as ours"
    );

    // No error loop: nothing more is written and no warning was raised.
    s.emulator.reset_calls();
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(s.aws_writes(), 0);
    let reasons = s.event_reasons("survivor")?;
    assert!(
        !reasons.iter().any(|r| ERROR_REASONS.contains(&r.as_str())),
        "{reasons:?}"
    );
    Ok(())
}

#[tokio::test]
async fn filters_on_one_log_group_share_one_read_per_resync() -> Result<()> {
    let (s, _) = logs_scenario::start("mf-shared-read", Seed::log_groups(&["/app/shared"])).await?;
    for (name, pattern) in [
        ("errors", "ERROR"),
        ("warnings", "WARN"),
        ("fatal", "FATAL"),
    ] {
        s.apply_yaml(&filter(name, "/app/shared", "").replace("ERROR", pattern))?;
    }
    for name in ["errors", "warnings", "fatal"] {
        s.wait_ready("metricfilter", name).await?;
    }

    // Four resync periods of 3 s: one DescribeMetricFilters per period for the log group, not
    // one per filter.
    s.emulator.reset_calls();
    tokio::time::sleep(Duration::from_secs(12)).await;
    let calls = s.emulator.calls();
    assert_eq!(calls.writes(), 0, "{calls:?}");
    let reads = calls.total_of("logs", "DescribeMetricFilters");
    assert!((3..=5).contains(&reads), "one read per period: {calls:?}");
    Ok(())
}
