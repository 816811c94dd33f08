//! LogSubscription end to end: the real operator binary on the real API server, against the
//! emulator through the real AWS SDK. Log groups, delivery streams and foreign filters are made in
//! the emulator first, as a user (or another tool) makes them in AWS.

use anyhow::Result;
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::SubscriptionFilter;
use cwo_e2e::logs_scenario::{
    self, ERROR_REASONS, LogGroupFilter, Seed, logs_calls, restart_after_crash,
};
use cwo_e2e::operator::{OperatorOptions, Scenario, create_delivery_stream, create_log_group};
use cwo_emulator::EmulatorConfig;
use std::time::Duration;

const ROLE: &str = "arn:aws:iam::123456789012:role/cloudwatch-logs-to-firehose";
const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:ship-logs";

/// A LogSubscription of `group` into the Lambda function, with `extra` spec lines.
fn subscription(name: &str, group: &str, extra: &str) -> String {
    format!(
        r#"apiVersion: cwo.dev/v1alpha1
kind: LogSubscription
metadata:
  name: {name}
spec:
  logGroupName: {group}
  filterPattern: ERROR
  destinationArn: {LAMBDA}
{extra}"#
    )
}

/// A filter someone else put on `group`, into the Lambda function.
async fn put_foreign(logs: &Client, group: &str, name: &str, pattern: &str) -> Result<()> {
    logs.put_subscription_filter()
        .log_group_name(group)
        .filter_name(name)
        .filter_pattern(pattern)
        .destination_arn(LAMBDA)
        .send()
        .await?;
    Ok(())
}

fn has_event(s: &Scenario, name: &str, reason: &str) -> Result<Option<()>> {
    Ok(s.event_reasons(name)?
        .iter()
        .any(|r| r == reason)
        .then_some(()))
}

#[tokio::test]
async fn the_example_waits_for_its_log_group_and_destination_then_is_ready_and_idles_without_writes()
-> Result<()> {
    let (s, logs) = logs_scenario::start("ls-example", Seed::default()).await?;
    s.apply_file("examples/log-subscription.yaml")?;

    // No log group yet: waiting, not a crash loop.
    let message = s
        .wait_condition(
            "logsubscription",
            "checkout-errors",
            "False",
            Some("DependencyNotReady"),
        )
        .await?;
    assert!(message.contains("/aws/lambda/checkout"), "{message}");
    assert!(message.contains("does not exist"), "{message}");
    create_log_group(&s.sdk, "/aws/lambda/checkout").await?;

    // The log group exists but the delivery stream does not: AWS's test message fails, which
    // is retried for a while rather than reported as a bad spec.
    let message = s
        .wait_for("a test-message failure", Duration::from_secs(60), || {
            Ok(s.condition("logsubscription", "checkout-errors", "Ready")?
                .filter(|(_, reason, m)| {
                    reason == "DependencyNotReady" && m.contains("test message")
                })
                .map(|(_, _, m)| m))
        })
        .await?;
    assert!(message.contains("retrying"), "{message}");
    let obj = s.get("logsubscription", "checkout-errors")?.unwrap();
    assert!(
        obj["status"]["testMessageFailingSince"].is_string(),
        "{}",
        obj["status"]
    );
    create_delivery_stream(&s.sdk, "central-logs").await?;

    s.wait_ready("logsubscription", "checkout-errors").await?;
    let f = SubscriptionFilter::named(&logs, "/aws/lambda/checkout", "checkout-errors")
        .await
        .expect("the filter exists in CloudWatch Logs");
    assert_eq!(f.filter_pattern(), Some(r#"{ $.level = "ERROR" }"#));
    assert_eq!(f.role_arn(), Some(ROLE));
    let obj = s.get("logsubscription", "checkout-errors")?.unwrap();
    let status = &obj["status"];
    assert_eq!(status["awsName"], "checkout-errors");
    assert_eq!(status["region"], "us-east-1");
    assert_eq!(status["ownership"]["origin"], "Created");
    assert_eq!(status["ownership"]["logGroupName"], "/aws/lambda/checkout");
    assert_eq!(status["ownership"]["ownerUid"], obj["metadata"]["uid"]);
    assert!(status["creationTime"].is_string(), "{status}");
    assert!(
        status["testMessageFailingSince"].is_null(),
        "cleared once written: {status}"
    );
    let reasons = s.event_reasons("checkout-errors")?;
    assert!(reasons.contains(&"Created".to_string()), "{reasons:?}");

    // Idle: several resync periods (3 s each) without an AWS write or a status write.
    let status_writes_before = s.status_writes("LogSubscription")?;
    s.emulator.reset_calls();
    tokio::time::sleep(Duration::from_secs(12)).await;
    let calls = s.emulator.calls();
    assert_eq!(calls.writes(), 0, "idle resyncs made AWS writes: {calls:?}");
    assert!(
        calls.total_of("logs", "DescribeSubscriptionFilters") >= 3,
        "resyncs re-read the filter: {calls:?}"
    );
    assert_eq!(
        s.status_writes("LogSubscription")?,
        status_writes_before,
        "idle resyncs wrote status"
    );

    // A spec change is one Put.
    s.kubectl([
        "patch",
        "logsubscription",
        "checkout-errors",
        "--type=merge",
        "-p",
        r#"{"spec":{"filterPattern":"{ $.level = \"FATAL\" }","emitSystemFields":["@aws.region"]}}"#,
    ])?
    .ok()?;
    SubscriptionFilter::wait(
        &s,
        &logs,
        "/aws/lambda/checkout",
        "checkout-errors",
        "the new pattern",
        |f| f.is_some_and(|f| f.filter_pattern() == Some(r#"{ $.level = "FATAL" }"#)),
    )
    .await?;
    s.wait_ready("logsubscription", "checkout-errors").await?;
    assert_eq!(
        logs_calls(&s, "PutSubscriptionFilter"),
        1,
        "one Put per update"
    );
    Ok(())
}

#[tokio::test]
async fn drift_is_put_back_and_a_filter_deleted_out_of_band_is_recreated() -> Result<()> {
    let (s, logs) = logs_scenario::start("ls-drift", Seed::log_groups(&["/app/drift"])).await?;
    s.apply_yaml(&subscription("drifty", "/app/drift", ""))?;
    s.wait_ready("logsubscription", "drifty").await?;

    put_foreign(&logs, "/app/drift", "drifty", "SOMETHING_ELSE").await?;
    SubscriptionFilter::wait(&s, &logs, "/app/drift", "drifty", "drift put back", |f| {
        f.is_some_and(|f| f.filter_pattern() == Some("ERROR"))
    })
    .await?;
    s.wait_for("DriftCorrected event", Duration::from_secs(20), || {
        has_event(&s, "drifty", "DriftCorrected")
    })
    .await?;

    logs.delete_subscription_filter()
        .log_group_name("/app/drift")
        .filter_name("drifty")
        .send()
        .await?;
    SubscriptionFilter::wait(
        &s,
        &logs,
        "/app/drift",
        "drifty",
        "the filter recreated",
        |f| f.is_some(),
    )
    .await?;
    s.wait_for("Recreated event", Duration::from_secs(20), || {
        has_event(&s, "drifty", "Recreated")
    })
    .await?;
    s.wait_ready("logsubscription", "drifty").await?;
    Ok(())
}

#[tokio::test]
async fn a_new_log_group_moves_the_filter_and_a_full_log_group_is_terminal_naming_its_filters()
-> Result<()> {
    let groups = ["/app/a", "/app/full", "/app/b"];
    let (s, logs) = logs_scenario::start("ls-move", Seed::log_groups(&groups)).await?;
    put_foreign(&logs, "/app/full", "audit", "AUDIT").await?;
    put_foreign(&logs, "/app/full", "archive", "").await?;
    s.apply_yaml(&subscription("mover", "/app/a", ""))?;
    s.wait_ready("logsubscription", "mover").await?;

    // The emulator, like AWS, allows 2 filters per log group; /app/full has 2.
    s.emulator.reset_calls();
    s.apply_yaml(&subscription("mover", "/app/full", ""))?;
    let message = s
        .wait_condition("logsubscription", "mover", "False", Some("LimitExceeded"))
        .await?;
    assert!(
        message.contains("\"audit\"") && message.contains("\"archive\""),
        "{message}"
    );
    assert!(
        SubscriptionFilter::named(&logs, "/app/a", "mover")
            .await
            .is_some(),
        "a move that cannot complete leaves the filter where it was"
    );
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        s.aws_writes(),
        0,
        "a terminal limit is neither written nor retried"
    );
    let warnings = s
        .event_reasons("mover")?
        .iter()
        .filter(|r| *r == "LimitExceeded")
        .count();
    assert_eq!(warnings, 1, "one Warning event, not one per retry");

    s.apply_yaml(&subscription("mover", "/app/b", ""))?;
    s.wait_ready("logsubscription", "mover").await?;
    assert!(
        SubscriptionFilter::named(&logs, "/app/a", "mover")
            .await
            .is_none(),
        "the old filter is deleted"
    );
    assert!(
        SubscriptionFilter::named(&logs, "/app/b", "mover")
            .await
            .is_some()
    );
    let obj = s.get("logsubscription", "mover")?.unwrap();
    assert_eq!(obj["status"]["ownership"]["logGroupName"], "/app/b");
    assert!(s.event_reasons("mover")?.contains(&"Replaced".to_string()));

    // Deleting the object deletes the filter it owns now, and only that one.
    s.kubectl(["delete", "logsubscription", "mover"])?.ok()?;
    s.wait_gone("logsubscription", "mover").await?;
    assert!(
        SubscriptionFilter::named(&logs, "/app/b", "mover")
            .await
            .is_none()
    );
    assert_eq!(
        SubscriptionFilter::on_log_group(&logs, "/app/full")
            .await
            .len(),
        2,
        "other filters are untouched"
    );
    Ok(())
}

#[tokio::test]
async fn the_configured_limit_is_used_and_a_lower_account_limit_is_terminal_too() -> Result<()> {
    // The account (emulator) allows 2 filters per log group; the operator is told 3.
    let (s, logs) = logs_scenario::start_with(
        "ls-limit-flag",
        EmulatorConfig::default(),
        OperatorOptions {
            extra_args: vec!["--subscription-filter-limit".into(), "3".into()],
            ..Default::default()
        },
        Seed::log_groups(&["/app/two"]),
    )
    .await?;
    put_foreign(&logs, "/app/two", "audit", "AUDIT").await?;
    put_foreign(&logs, "/app/two", "archive", "").await?;
    s.emulator.reset_calls();
    s.apply_yaml(&subscription("third", "/app/two", ""))?;
    let message = s
        .wait_condition("logsubscription", "third", "False", Some("LimitExceeded"))
        .await?;
    assert!(
        message.contains("--subscription-filter-limit (3)"),
        "{message}"
    );
    assert!(
        message.contains("\"audit\"") && message.contains("\"archive\""),
        "{message}"
    );
    let puts = logs_calls(&s, "PutSubscriptionFilter");
    assert_eq!(
        puts, 1,
        "the configured limit let the Put through; AWS refused it"
    );
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(logs_calls(&s, "PutSubscriptionFilter"), puts, "not retried");
    let obj = s.get("logsubscription", "third")?.unwrap();
    assert!(
        obj["status"]["ownership"].is_null(),
        "a refused create records no ownership"
    );
    Ok(())
}

#[tokio::test]
async fn an_existing_filter_is_adopted_only_when_the_policy_allows_and_never_from_another_object()
-> Result<()> {
    let (s, logs) = logs_scenario::start("ls-adopt", Seed::log_groups(&["/app/adopt"])).await?;
    put_foreign(&logs, "/app/adopt", "theirs", "THEIRS").await?;
    put_foreign(&logs, "/app/adopt", "unowned", "OLD").await?;
    s.emulator.reset_calls();

    s.apply_yaml(&subscription("theirs", "/app/adopt", ""))?;
    let message = s
        .wait_condition(
            "logsubscription",
            "theirs",
            "False",
            Some("AlreadyExistsUnowned"),
        )
        .await?;
    assert!(message.contains("adoption: IfUnowned"), "{message}");
    assert_eq!(s.aws_writes(), 0, "a refused take-over writes nothing");

    s.apply_yaml(&subscription(
        "unowned",
        "/app/adopt",
        "  adoption: IfUnowned\n",
    ))?;
    s.wait_ready("logsubscription", "unowned").await?;
    let f = SubscriptionFilter::named(&logs, "/app/adopt", "unowned")
        .await
        .unwrap();
    assert_eq!(
        f.filter_pattern(),
        Some("ERROR"),
        "the adopted filter follows the spec"
    );
    let obj = s.get("logsubscription", "unowned")?.unwrap();
    assert_eq!(obj["status"]["ownership"]["origin"], "Adopted");
    assert!(s.event_reasons("unowned")?.contains(&"Adopted".to_string()));

    // Another object naming the same filter may not take it, even with IfUnowned: the first
    // object's status claims it.
    let ns = s.namespace().to_string();
    s.apply_yaml(&subscription(
        "copycat",
        "/app/adopt",
        "  filterName: unowned\n  filterPattern: COPY\n  adoption: IfUnowned\n",
    ))?;
    let message = s
        .wait_condition(
            "logsubscription",
            "copycat",
            "False",
            Some("AlreadyExistsUnowned"),
        )
        .await?;
    assert!(
        message.contains(&format!("{ns}/unowned")),
        "names the owner: {message}"
    );
    assert_eq!(
        SubscriptionFilter::named(&logs, "/app/adopt", "unowned")
            .await
            .unwrap()
            .filter_pattern(),
        Some("ERROR")
    );

    // Deleting objects that do not own a filter leaves it alone.
    s.kubectl(["delete", "logsubscription", "theirs", "copycat"])?
        .ok()?;
    s.wait_gone("logsubscription", "theirs").await?;
    s.wait_gone("logsubscription", "copycat").await?;
    assert!(
        SubscriptionFilter::named(&logs, "/app/adopt", "theirs")
            .await
            .is_some(),
        "someone else's filter survives"
    );
    assert!(
        SubscriptionFilter::named(&logs, "/app/adopt", "unowned")
            .await
            .is_some(),
        "the owner's filter survives"
    );
    Ok(())
}

#[tokio::test]
async fn observe_only_reports_without_writing() -> Result<()> {
    let (s, logs) = logs_scenario::start("ls-observe", Seed::log_groups(&["/app/watched"])).await?;
    put_foreign(&logs, "/app/watched", "watched", "WARN").await?;
    s.emulator.reset_calls();
    s.apply_yaml(&subscription(
        "watched",
        "/app/watched",
        "  managementPolicy: ObserveOnly\n",
    ))?;
    let message = s
        .wait_condition("logsubscription", "watched", "True", Some("Observed"))
        .await?;
    assert!(
        message.contains("filterPattern"),
        "differences are reported: {message}"
    );
    s.apply_yaml(&subscription(
        "absent",
        "/app/watched",
        "  managementPolicy: ObserveOnly\n",
    ))?;
    s.wait_condition("logsubscription", "absent", "False", Some("NotFound"))
        .await?;
    s.apply_yaml(&subscription(
        "nogroup",
        "/app/nowhere",
        "  managementPolicy: ObserveOnly\n",
    ))?;
    s.wait_condition("logsubscription", "nogroup", "False", Some("NotFound"))
        .await?;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(s.aws_writes(), 0, "ObserveOnly never writes");
    s.kubectl(["delete", "logsubscription", "watched"])?.ok()?;
    s.wait_gone("logsubscription", "watched").await?;
    assert_eq!(
        SubscriptionFilter::named(&logs, "/app/watched", "watched")
            .await
            .unwrap()
            .filter_pattern(),
        Some("WARN"),
        "deleting an observer leaves the filter"
    );
    Ok(())
}

#[tokio::test]
async fn delete_removes_the_filter_and_retain_leaves_it() -> Result<()> {
    let (s, logs) = logs_scenario::start("ls-delete", Seed::log_groups(&["/app/del"])).await?;
    s.apply_yaml(&subscription("gone", "/app/del", ""))?;
    s.apply_yaml(&subscription(
        "kept",
        "/app/del",
        "  deletionPolicy: Retain\n",
    ))?;
    s.wait_ready("logsubscription", "gone").await?;
    s.wait_ready("logsubscription", "kept").await?;
    s.kubectl(["delete", "logsubscription", "gone", "kept", "--wait=false"])?
        .ok()?;
    s.wait_gone("logsubscription", "gone").await?;
    s.wait_gone("logsubscription", "kept").await?;
    assert!(
        SubscriptionFilter::named(&logs, "/app/del", "gone")
            .await
            .is_none(),
        "Delete removes the filter"
    );
    assert!(
        SubscriptionFilter::named(&logs, "/app/del", "kept")
            .await
            .is_some(),
        "Retain leaves the filter"
    );
    Ok(())
}

#[tokio::test]
async fn a_crash_after_create_before_the_status_write_leaves_one_filter_and_ends_ready()
-> Result<()> {
    let seed = Seed::log_groups(&["/app/crash"]);
    let (mut s, logs) =
        logs_scenario::crashing_after("ls-crash", "PutSubscriptionFilter", seed).await?;
    s.apply_yaml(&subscription("survivor", "/app/crash", ""))?;
    s.wait_operator_exit(Duration::from_secs(60)).await?;
    assert_eq!(logs_calls(&s, "PutSubscriptionFilter"), 1);
    assert!(
        SubscriptionFilter::named(&logs, "/app/crash", "survivor")
            .await
            .is_some(),
        "the create went through"
    );
    let obj = s.get("logsubscription", "survivor")?.unwrap();
    assert!(
        obj["status"]["conditions"].is_null(),
        "the runtime's status write never happened: {}",
        obj["status"]
    );

    restart_after_crash(&mut s)?;
    let message = s
        .wait_condition("logsubscription", "survivor", "True", Some("Available"))
        .await?;
    assert!(message.contains("matches the spec"), "{message}");
    assert_eq!(
        SubscriptionFilter::on_log_group(&logs, "/app/crash")
            .await
            .len(),
        1,
        "no duplicate filter"
    );
    assert_eq!(
        logs_calls(&s, "PutSubscriptionFilter"),
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
    let (s, _) = logs_scenario::start("ls-shared-read", Seed::log_groups(&["/app/shared"])).await?;
    s.apply_yaml(&subscription("errors", "/app/shared", ""))?;
    s.apply_yaml(&subscription(
        "warnings",
        "/app/shared",
        "  filterPattern: WARN\n",
    ))?;
    s.wait_ready("logsubscription", "errors").await?;
    s.wait_ready("logsubscription", "warnings").await?;

    // Four resync periods of 3 s: one DescribeSubscriptionFilters per period for the log group,
    // not one per filter.
    s.emulator.reset_calls();
    tokio::time::sleep(Duration::from_secs(12)).await;
    let calls = s.emulator.calls();
    assert_eq!(calls.writes(), 0, "{calls:?}");
    let reads = calls.total_of("logs", "DescribeSubscriptionFilters");
    assert!((3..=5).contains(&reads), "one read per period: {calls:?}");
    Ok(())
}
