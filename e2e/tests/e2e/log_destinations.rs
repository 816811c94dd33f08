//! LogDestination, and subscriptions to it, end to end: the real operator binary on the real API
//! server, against the emulator through the real AWS SDK. Delivery streams, log groups and
//! foreign destinations are made in the emulator first, as a user (or another tool) makes them in
//! AWS. The subscriptions here live in the destination's own account: the single-account form.

use anyhow::Result;
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::Destination;
use cwo_e2e::logs_scenario::{self, ERROR_REASONS, Seed, logs_calls, restart_after_crash};
use cwo_e2e::operator::{create_delivery_stream, create_log_group};
use serde_json::Value;
use std::time::Duration;

const ACCOUNT: &str = "123456789012";
const ROLE: &str = "arn:aws:iam::123456789012:role/cloudwatch-logs-to-firehose";

fn firehose(name: &str) -> String {
    format!("arn:aws:firehose:us-east-1:{ACCOUNT}:deliverystream/{name}")
}

/// A LogDestination in front of the delivery stream `stream`, with `extra` spec lines.
fn destination(name: &str, stream: &str, extra: &str) -> String {
    format!(
        r#"apiVersion: cwo.dev/v1alpha1
kind: LogDestination
metadata:
  name: {name}
spec:
  targetArn: {}
  roleArn: {ROLE}
  senderAccountIds: ["{ACCOUNT}"]
{extra}"#,
        firehose(stream)
    )
}

async fn find(logs: &Client, name: &str) -> Result<Option<Destination>> {
    let out = logs
        .describe_destinations()
        .destination_name_prefix(name)
        .send()
        .await?;
    Ok(out
        .destinations()
        .iter()
        .find(|d| d.destination_name() == Some(name))
        .cloned())
}

/// The accounts the destination's access policy lets subscribe.
fn senders(d: &Destination) -> Vec<String> {
    let policy: Value = serde_json::from_str(d.access_policy().unwrap_or("{}")).unwrap_or_default();
    let principal = &policy["Statement"][0]["Principal"]["AWS"];
    let mut out: Vec<String> = match principal {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    out.sort();
    out
}

#[tokio::test]
async fn the_central_logging_example_waits_for_its_stream_and_log_group_then_delivers_and_idles_without_writes()
-> Result<()> {
    let (s, logs) = logs_scenario::start("ld-example", Seed::default()).await?;
    s.apply_file("examples/central-logging.yaml")?;

    // No delivery stream yet: CloudWatch Logs cannot deliver its test message, which is waited
    // out; the subscription waits for the destination.
    let message = s
        .wait_condition(
            "logdestination",
            "central-logs",
            "False",
            Some("DependencyNotReady"),
        )
        .await?;
    assert!(message.contains("central-logs"), "{message}");
    let message = s
        .wait_condition(
            "logsubscription",
            "orders-to-central",
            "False",
            Some("DependencyNotReady"),
        )
        .await?;
    assert!(
        message.contains("LogDestination") && message.contains("central-logs"),
        "{message}"
    );
    create_delivery_stream(&s.sdk, "central-logs").await?;
    s.wait_ready("logdestination", "central-logs").await?;

    let arn = format!("arn:aws:logs:us-east-1:{ACCOUNT}:destination:central-logs");
    let obj = s.get("logdestination", "central-logs")?.unwrap();
    assert_eq!(obj["status"]["arn"], arn.as_str());
    assert!(
        obj["status"]["creationTime"].is_string(),
        "{}",
        obj["status"]
    );
    let d = find(&logs, "central-logs")
        .await?
        .expect("the destination exists");
    assert_eq!(d.target_arn(), Some(firehose("central-logs").as_str()));
    assert_eq!(d.role_arn(), Some(ROLE));
    assert_eq!(senders(&d), [ACCOUNT], "the single-account form");
    let tags = logs
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await?;
    let tags = tags.tags().cloned().unwrap_or_default();
    assert_eq!(tags.get("team").map(String::as_str), Some("observability"));
    assert!(tags.contains_key("cwo.dev/owner"), "{tags:?}");

    // The subscription now waits for its log group, then sends to the destination's ARN.
    let message = s
        .wait_condition(
            "logsubscription",
            "orders-to-central",
            "False",
            Some("DependencyNotReady"),
        )
        .await?;
    assert!(message.contains("/ecs/orders"), "{message}");
    create_log_group(&s.sdk, "/ecs/orders").await?;
    s.wait_ready("logsubscription", "orders-to-central").await?;
    let filters = logs
        .describe_subscription_filters()
        .log_group_name("/ecs/orders")
        .send()
        .await?;
    assert_eq!(
        filters.subscription_filters()[0].destination_arn(),
        Some(arn.as_str())
    );

    // Idle: several resync periods (3 s each) without an AWS write.
    s.emulator.reset_calls();
    tokio::time::sleep(Duration::from_secs(12)).await;
    let calls = s.emulator.calls();
    assert_eq!(calls.writes(), 0, "idle resyncs made AWS writes: {calls:?}");
    assert!(
        calls.total_of("logs", "DescribeDestinations") >= 3,
        "resyncs re-read the destination: {calls:?}"
    );

    // Another sender is one PutDestinationPolicy, and nothing else.
    s.emulator.reset_calls();
    s.kubectl([
        "patch",
        "logdestination",
        "central-logs",
        "--type=merge",
        "-p",
        r#"{"spec":{"senderAccountIds":["123456789012","210987654321"]}}"#,
    ])?
    .ok()?;
    s.wait_until("the new sender", Duration::from_secs(30), || async {
        Ok(find(&logs, "central-logs")
            .await?
            .filter(|d| senders(d) == ["123456789012", "210987654321"])
            .map(|_| ()))
    })
    .await?;
    s.wait_ready("logdestination", "central-logs").await?;
    assert_eq!(logs_calls(&s, "PutDestinationPolicy"), 1);
    assert_eq!(logs_calls(&s, "PutDestination"), 0);

    // Deleting the destination first: it waits while the subscription still sends to it.
    s.kubectl(["delete", "logdestination", "central-logs", "--wait=false"])?
        .ok()?;
    let message = s
        .wait_for(
            "the destination to wait for its subscription",
            Duration::from_secs(30),
            || {
                Ok(s.condition("logdestination", "central-logs", "Ready")?
                    .filter(|(_, reason, _)| reason == "DependencyNotReady")
                    .map(|(_, _, m)| m))
            },
        )
        .await?;
    assert!(message.contains("orders-to-central"), "{message}");
    assert!(find(&logs, "central-logs").await?.is_some());
    s.kubectl([
        "delete",
        "logsubscription",
        "orders-to-central",
        "--wait=false",
    ])?
    .ok()?;
    s.wait_gone("logdestination", "central-logs").await?;
    s.wait_gone("logsubscription", "orders-to-central").await?;
    assert!(find(&logs, "central-logs").await?.is_none(), "deleted");
    let filters = logs
        .describe_subscription_filters()
        .log_group_name("/ecs/orders")
        .send()
        .await?;
    assert!(filters.subscription_filters().is_empty());
    Ok(())
}

#[tokio::test]
async fn drift_is_put_back_adoption_follows_the_policy_and_observe_only_never_writes() -> Result<()>
{
    let (s, logs) = logs_scenario::start("ld-ownership", Seed::delivery_streams(&["fh"])).await?;
    for name in ["theirs", "unowned"] {
        logs.put_destination()
            .destination_name(name)
            .target_arn(firehose("fh"))
            .role_arn(ROLE)
            .send()
            .await?;
    }
    s.apply_yaml(&destination("mine", "fh", ""))?;
    s.wait_ready("logdestination", "mine").await?;

    // Drift: someone opens the policy to another account; the operator puts it back.
    let arn = format!("arn:aws:logs:us-east-1:{ACCOUNT}:destination:mine");
    logs.put_destination_policy()
        .destination_name("mine")
        .access_policy(format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"999999999999"}},"Action":"logs:PutSubscriptionFilter","Resource":"{arn}"}}]}}"#
        ))
        .send()
        .await?;
    s.wait_until("the policy put back", Duration::from_secs(30), || async {
        Ok(find(&logs, "mine")
            .await?
            .filter(|d| senders(d) == [ACCOUNT])
            .map(|_| ()))
    })
    .await?;
    s.wait_for("DriftCorrected event", Duration::from_secs(20), || {
        Ok(s.event_reasons("mine")?
            .iter()
            .any(|r| r == "DriftCorrected")
            .then_some(()))
    })
    .await?;

    // Someone else's destination is not taken over without adoption.
    s.emulator.reset_calls();
    s.apply_yaml(&destination("theirs", "fh", ""))?;
    let message = s
        .wait_condition(
            "logdestination",
            "theirs",
            "False",
            Some("AlreadyExistsUnowned"),
        )
        .await?;
    assert!(message.contains("adoption: IfUnowned"), "{message}");
    assert_eq!(s.aws_writes(), 0, "a refused take-over writes nothing");
    // With IfUnowned it is, and it gets the owner tags.
    s.apply_yaml(&destination("unowned", "fh", "  adoption: IfUnowned\n"))?;
    s.wait_ready("logdestination", "unowned").await?;
    let tags = logs
        .list_tags_for_resource()
        .resource_arn(format!(
            "arn:aws:logs:us-east-1:{ACCOUNT}:destination:unowned"
        ))
        .send()
        .await?;
    assert!(
        tags.tags().is_some_and(|t| t.contains_key("cwo.dev/owner")),
        "{tags:?}"
    );
    assert!(s.event_reasons("unowned")?.contains(&"Adopted".to_string()));

    // ObserveOnly reports the differences (no policy on "theirs") and writes nothing.
    s.apply_yaml(&destination(
        "watched",
        "fh",
        "  destinationName: theirs\n  managementPolicy: ObserveOnly\n",
    ))?;
    let message = s
        .wait_condition("logdestination", "watched", "True", Some("Observed"))
        .await?;
    assert!(message.contains("accessPolicy"), "{message}");
    s.emulator.reset_calls();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(s.aws_writes(), 0, "ObserveOnly never writes");

    // Deleting objects that do not own a destination leaves it.
    s.kubectl(["delete", "logdestination", "theirs", "watched", "mine"])?
        .ok()?;
    for name in ["theirs", "watched", "mine"] {
        s.wait_gone("logdestination", name).await?;
    }
    assert!(find(&logs, "theirs").await?.is_some());
    assert!(find(&logs, "mine").await?.is_none());
    Ok(())
}

#[tokio::test]
async fn a_crash_after_create_before_the_status_write_leaves_one_destination_and_ends_ready()
-> Result<()> {
    let seed = Seed::delivery_streams(&["fh"]);
    let (mut s, logs) = logs_scenario::crashing_after("ld-crash", "PutDestination", seed).await?;
    s.apply_yaml(&destination("survivor", "fh", ""))?;
    s.wait_operator_exit(Duration::from_secs(60)).await?;
    assert_eq!(logs_calls(&s, "PutDestination"), 1);
    let d = find(&logs, "survivor")
        .await?
        .expect("the create went through");
    assert_eq!(d.access_policy(), None, "the crash came before the policy");
    let obj = s.get("logdestination", "survivor")?.unwrap();
    assert!(
        obj["status"]["conditions"].is_null(),
        "the runtime's status write never happened: {}",
        obj["status"]
    );

    restart_after_crash(&mut s)?;
    let message = s
        .wait_condition("logdestination", "survivor", "True", Some("Available"))
        .await?;
    assert!(message.contains("matches the spec"), "{message}");
    assert_eq!(
        logs_calls(&s, "PutDestination"),
        0,
        "the destination found after the restart is recognised as ours by its tags"
    );
    assert_eq!(
        logs_calls(&s, "PutDestinationPolicy"),
        1,
        "the policy it lacked"
    );
    let d = find(&logs, "survivor").await?.unwrap();
    assert_eq!(senders(&d), [ACCOUNT]);

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
