//! What GitOps tools see of every kind on the bed, row by row: an object just created (before
//! any reconcile, exactly as `kubectl create -o json` returns it) is InProgress; Ready is Current
//! (Healthy in Argo CD; a stopped MetricStream Suspended); waiting for something that is retried
//! is InProgress (Progressing); a terminal reason (AlreadyExistsUnowned, InvalidSpec,
//! LimitExceeded) is Failed at once with the operator's message (Degraded); a spec changed while
//! the operator was away is InProgress until it catches up. kstatus and the Argo CD scripts run
//! on the objects read from the API server, and each object must match its fixture in
//! `tests/fixtures/gitops/`, so the script tests over those fixtures cannot drift from what the
//! operator writes.

use std::time::Duration;

use anyhow::{Context, Result};
use aws_sdk_cloudwatch::Client as CloudWatch;
use cwo_e2e::operator::{
    E2E_OPERATOR_LABEL, OperatorOptions, Scenario, create_delivery_stream, create_log_group,
};
use cwo_emulator::sts::iam::{Role, Trust};
use cwo_emulator::{DEFAULT_ACCOUNT, EmulatorConfig};
use serde_json::Value;

use crate::gitops::{State, check_fixture, check_verdicts};

/// One object of a scenario: its manifest, the state it must reach, and the Ready condition
/// that shows it has (status, reason).
struct Case {
    name: String,
    manifest: String,
    state: State,
    ready: (&'static str, Option<&'static str>),
}

impl Case {
    fn ready(name: impl Into<String>, manifest: String) -> Case {
        Case {
            name: name.into(),
            manifest,
            state: State::Ready,
            ready: ("True", None),
        }
    }

    fn stopped(name: impl Into<String>, manifest: String) -> Case {
        Case {
            name: name.into(),
            manifest,
            state: State::Stopped,
            ready: ("True", None),
        }
    }

    fn waiting(name: impl Into<String>, reason: &'static str, manifest: String) -> Case {
        Case {
            name: name.into(),
            manifest,
            state: State::Waiting,
            ready: ("False", Some(reason)),
        }
    }

    fn stalled(name: impl Into<String>, reason: &'static str, manifest: String) -> Case {
        Case {
            name: name.into(),
            manifest,
            state: State::Stalled(reason.into()),
            ready: ("False", Some(reason)),
        }
    }
}

/// Waits until the object's Ready condition has `status` and `reason` for its current
/// generation, and returns the object as read then.
async fn wait_object(s: &Scenario, kind: &str, case: &Case) -> Result<Value> {
    let (status, reason) = case.ready;
    s.wait_for(
        &format!("{kind}/{} Ready={status} reason={reason:?}", case.name),
        Duration::from_secs(60),
        || {
            let Some(obj) = s.get(kind, &case.name)? else {
                return Ok(None);
            };
            let generation = obj["metadata"]["generation"].as_i64();
            let ready = obj["status"]["conditions"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"));
            let reached = ready.is_some_and(|c| {
                c["status"] == status
                    && reason.is_none_or(|r| c["reason"] == r)
                    && c["observedGeneration"].as_i64() == generation
            }) && obj["status"]["observedGeneration"].as_i64() == generation;
            Ok(reached.then_some(obj))
        },
    )
    .await
}

/// Runs every row for `kind`: creates each case with no operator running (the first is also
/// captured as the `created` fixture), starts the operator, waits for each case's state, then
/// stops the operator and applies `change` (a merge patch of the spec) to the first case to see
/// a stale generation. `setup` makes the AWS side first.
async fn every_state(
    kind: &str,
    options: OperatorOptions,
    setup: impl AsyncFnOnce(&Scenario) -> Result<()>,
    cases: Vec<Case>,
    change: &str,
) -> Result<()> {
    every_state_with(kind, options, setup, |_| cases, change).await
}

/// [`every_state`] with cases that depend on the scenario (the names of cluster-scoped objects
/// carry its namespace).
async fn every_state_with(
    kind: &str,
    options: OperatorOptions,
    setup: impl AsyncFnOnce(&Scenario) -> Result<()>,
    cases: impl FnOnce(&Scenario) -> Vec<Case>,
    change: &str,
) -> Result<()> {
    let resource = kind.to_lowercase();
    let mut s = Scenario::without_operator(
        &format!("gitops-{resource}"),
        EmulatorConfig::default(),
        options,
    )?;
    setup(&s).await?;
    let cases = cases(&s);

    for (i, case) in cases.iter().enumerate() {
        let out = s
            .bed
            .kubectl_with_stdin(
                ["create", "-n", s.namespace(), "-o", "json", "-f", "-"],
                &case.manifest,
            )?
            .ok()?;
        let created: Value = serde_json::from_str(&out.stdout)
            .with_context(|| format!("kubectl create -o json printed {}", out.stdout))?;
        check_verdicts(kind, &State::Created, &created)?;
        if i == 0 {
            check_fixture(kind, &State::Created, &created, s.namespace())?;
        }
    }

    s.start_operator()?;
    for case in &cases {
        let obj = wait_object(&s, &resource, case).await?;
        let (kstatus, argocd) = check_verdicts(kind, &case.state, &obj)?;
        check_fixture(kind, &case.state, &obj, s.namespace())?;
        cwo_e2e::report(&format!(
            "  ok  {kind}/{} {}: kstatus {} ({}); Argo CD {}",
            case.name,
            case.state.name(),
            kstatus.status,
            kstatus.message,
            argocd.status
        ));
    }

    // The spec changes while the operator is away: what was Ready is no longer current.
    s.operator().kill();
    let first = &cases[0];
    let out = s
        .kubectl([
            "patch",
            &resource,
            &first.name,
            "--type=merge",
            "-p",
            change,
            "-o",
            "json",
        ])?
        .ok()?;
    let stale: Value = serde_json::from_str(&out.stdout)?;
    check_verdicts(kind, &State::Stale, &stale)?;
    check_fixture(kind, &State::Stale, &stale, s.namespace())?;
    Ok(())
}

fn alarm(name: &str, extra: &str) -> String {
    format!(
        r#"apiVersion: cwo.dev/v1alpha1
kind: Alarm
metadata:
  name: {name}
spec:
  description: CPU of the web instance above 80% for 3 minutes.
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

/// Puts a metric alarm `name` in AWS that no object owns.
async fn foreign_alarm(sdk: &aws_types::SdkConfig, name: &str) -> Result<()> {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
    CloudWatch::new(sdk)
        .put_metric_alarm()
        .alarm_name(name)
        .metric_name("Errors")
        .namespace("App")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .send()
        .await?;
    Ok(())
}

#[tokio::test]
async fn alarm_in_every_state_reads_right_in_kstatus_and_argo_cd() -> Result<()> {
    // The schema leaves the returnData rule of an anomaly detection alarm to CloudWatch (the
    // watched metric and its band may both return data); a third series returning data is
    // more than CloudWatch takes.
    let bad_band = r#"apiVersion: cwo.dev/v1alpha1
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
"#;
    every_state(
        "Alarm",
        OperatorOptions::default(),
        async |s| foreign_alarm(&s.sdk, "theirs").await,
        vec![
            Case::ready("cpu", alarm("cpu", "")),
            Case::waiting(
                "absent",
                "NotFound",
                alarm("absent", "  managementPolicy: ObserveOnly\n"),
            ),
            Case::stalled("theirs", "AlreadyExistsUnowned", alarm("theirs", "")),
            Case::stalled("bad-band", "InvalidSpec", bad_band.to_string()),
        ],
        r#"{"spec":{"threshold":90}}"#,
    )
    .await
}

fn composite(name: &str, rule: &str) -> String {
    format!(
        r#"apiVersion: cwo.dev/v1alpha1
kind: CompositeAlarm
metadata:
  name: {name}
spec:
  description: Checkout is failing.
{rule}"#
    )
}

#[tokio::test]
async fn composite_alarm_in_every_state_reads_right_in_kstatus_and_argo_cd() -> Result<()> {
    let over = |child: &str| format!("  rule:\n    anyOf:\n      - alarm: {{alarmRef: {child}}}\n");
    every_state(
        "CompositeAlarm",
        OperatorOptions::default(),
        async |s| {
            // The child the ready composite names, reconciled once the operator starts, and a
            // composite in AWS that no object owns.
            s.apply_yaml(&alarm("errors", ""))?;
            foreign_alarm(&s.sdk, "their-child").await?;
            CloudWatch::new(&s.sdk)
                .put_composite_alarm()
                .alarm_name("theirs")
                .alarm_rule("ALARM(\"their-child\")")
                .send()
                .await?;
            Ok(())
        },
        vec![
            Case::ready("degraded", composite("degraded", &over("errors"))),
            Case::waiting(
                "waiting",
                "DependencyNotReady",
                composite("waiting", &over("missing")),
            ),
            Case::stalled(
                "theirs",
                "AlreadyExistsUnowned",
                composite("theirs", &over("errors")),
            ),
            Case::stalled(
                "loop",
                "InvalidSpec",
                composite(
                    "loop",
                    "  alarmRule: ALARM(\"errors\") OR ALARM(\"loop\")\n",
                ),
            ),
        ],
        r#"{"spec":{"description":"Checkout is failing or slow."}}"#,
    )
    .await
}

const STREAM_ROLE: &str = "arn:aws:iam::123456789012:role/cloudwatch-metric-stream";

fn stream(name: &str, firehose: &str, extra: &str) -> String {
    format!(
        r#"apiVersion: cwo.dev/v1alpha1
kind: MetricStream
metadata:
  name: {name}
spec:
  firehoseArn: arn:aws:firehose:us-east-1:123456789012:deliverystream/{firehose}
  roleArn: {STREAM_ROLE}
  outputFormat: json
  includeFilters:
    - namespace: AWS/EC2
      metricNames: [CPUUtilization, NetworkIn]
{extra}"#
    )
}

#[tokio::test]
async fn metric_stream_in_every_state_reads_right_in_kstatus_and_argo_cd() -> Result<()> {
    every_state(
        "MetricStream",
        OperatorOptions::default(),
        async |s| {
            create_delivery_stream(&s.sdk, "fh").await?;
            CloudWatch::new(&s.sdk)
                .put_metric_stream()
                .name("theirs")
                .firehose_arn("arn:aws:firehose:us-east-1:123456789012:deliverystream/fh")
                .role_arn(STREAM_ROLE)
                .output_format(aws_sdk_cloudwatch::types::MetricStreamOutputFormat::Json)
                .send()
                .await?;
            Ok(())
        },
        vec![
            Case::ready("export", stream("export", "fh", "")),
            Case::stopped(
                "paused",
                stream("paused", "fh", "  desiredState: Stopped\n"),
            ),
            Case::waiting(
                "waiting",
                "DependencyNotReady",
                stream("waiting", "not-created-yet", ""),
            ),
            Case::stalled("theirs", "AlreadyExistsUnowned", stream("theirs", "fh", "")),
            // The delivery stream and the role share an account, so the schema and the operator
            // let the stream through; only CloudWatch knows it is not the stream's own account.
            Case::stalled(
                "other-account",
                "InvalidSpec",
                stream("other-account", "fh", "").replace("123456789012", "999999999999"),
            ),
        ],
        r#"{"spec":{"tags":{"team":"observability"}}}"#,
    )
    .await
}

const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:ship-logs";

fn subscription(name: &str, group: &str) -> String {
    format!(
        r#"apiVersion: cwo.dev/v1alpha1
kind: LogSubscription
metadata:
  name: {name}
spec:
  logGroupName: {group}
  filterPattern: ERROR
  destinationArn: {LAMBDA}
"#
    )
}

/// Puts a subscription filter `name` on `group` that no object owns.
async fn foreign_filter(sdk: &aws_types::SdkConfig, group: &str, name: &str) -> Result<()> {
    aws_sdk_cloudwatchlogs::Client::new(sdk)
        .put_subscription_filter()
        .log_group_name(group)
        .filter_name(name)
        .filter_pattern("")
        .destination_arn(LAMBDA)
        .send()
        .await?;
    Ok(())
}

#[tokio::test]
async fn log_subscription_in_every_state_reads_right_in_kstatus_and_argo_cd() -> Result<()> {
    every_state(
        "LogSubscription",
        OperatorOptions::default(),
        async |s| {
            create_log_group(&s.sdk, "/app/orders").await?;
            foreign_filter(&s.sdk, "/app/orders", "theirs").await?;
            // A log group already holding as many filters as AWS allows (2).
            create_log_group(&s.sdk, "/app/full").await?;
            for name in ["audit", "archive"] {
                foreign_filter(&s.sdk, "/app/full", name).await?;
            }
            Ok(())
        },
        vec![
            Case::ready("ship", subscription("ship", "/app/orders")),
            Case::waiting(
                "no-group",
                "DependencyNotReady",
                subscription("no-group", "/app/not-created-yet"),
            ),
            Case::stalled(
                "theirs",
                "AlreadyExistsUnowned",
                subscription("theirs", "/app/orders"),
            ),
            Case::stalled("third", "LimitExceeded", subscription("third", "/app/full")),
        ],
        r#"{"spec":{"filterPattern":"WARN"}}"#,
    )
    .await
}

fn metric_filter(name: &str, group: &str, extra: &str) -> String {
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
      metricNamespace: Orders
      metricValue: "1"
{extra}"#
    )
}

#[tokio::test]
async fn metric_filter_in_every_state_reads_right_in_kstatus_and_argo_cd() -> Result<()> {
    every_state(
        "MetricFilter",
        OperatorOptions::default(),
        async |s| {
            create_log_group(&s.sdk, "/app/orders").await?;
            aws_sdk_cloudwatchlogs::Client::new(&s.sdk)
                .put_metric_filter()
                .log_group_name("/app/orders")
                .filter_name("theirs")
                .filter_pattern("")
                .metric_transformations(
                    aws_sdk_cloudwatchlogs::types::MetricTransformation::builder()
                        .metric_name("Lines")
                        .metric_namespace("Orders")
                        .metric_value("1")
                        .build()?,
                )
                .send()
                .await?;
            Ok(())
        },
        vec![
            Case::ready(
                "errors",
                metric_filter(
                    "errors",
                    "/app/orders",
                    "  tests:\n    - logEvent: ERROR card declined\n      value: 1\n",
                ),
            ),
            Case::waiting(
                "no-group",
                "DependencyNotReady",
                metric_filter("no-group", "/app/not-created-yet", ""),
            ),
            Case::stalled(
                "theirs",
                "AlreadyExistsUnowned",
                metric_filter("theirs", "/app/orders", ""),
            ),
            // A test the pattern fails: the schema cannot know, TestMetricFilter does.
            Case::stalled(
                "wrong-test",
                "InvalidSpec",
                metric_filter(
                    "wrong-test",
                    "/app/orders",
                    "  tests:\n    - logEvent: WARN disk almost full\n      value: 1\n",
                ),
            ),
        ],
        r#"{"spec":{"filterPattern":"FATAL"}}"#,
    )
    .await
}

const LOGS_ROLE: &str = "arn:aws:iam::123456789012:role/cloudwatch-logs-to-firehose";

fn log_destination(name: &str, extra: &str) -> String {
    format!(
        r#"apiVersion: cwo.dev/v1alpha1
kind: LogDestination
metadata:
  name: {name}
spec:
  targetArn: arn:aws:firehose:us-east-1:123456789012:deliverystream/central
  roleArn: {LOGS_ROLE}
{extra}"#
    )
}

#[tokio::test]
async fn log_destination_in_every_state_reads_right_in_kstatus_and_argo_cd() -> Result<()> {
    let senders = "  senderAccountIds: [\"123456789012\"]\n";
    every_state(
        "LogDestination",
        OperatorOptions::default(),
        async |s| {
            create_delivery_stream(&s.sdk, "central").await?;
            aws_sdk_cloudwatchlogs::Client::new(&s.sdk)
                .put_destination()
                .destination_name("theirs")
                .target_arn("arn:aws:firehose:us-east-1:123456789012:deliverystream/central")
                .role_arn(LOGS_ROLE)
                .send()
                .await?;
            Ok(())
        },
        vec![
            Case::ready("central", log_destination("central", senders)),
            Case::waiting(
                "absent",
                "NotFound",
                log_destination(
                    "absent",
                    &format!("{senders}  managementPolicy: ObserveOnly\n"),
                ),
            ),
            Case::stalled(
                "theirs",
                "AlreadyExistsUnowned",
                log_destination("theirs", senders),
            ),
            // An access policy that is not JSON: admission cannot tell, the operator can.
            Case::stalled(
                "bad-policy",
                "InvalidSpec",
                log_destination("bad-policy", "  accessPolicy: allow everyone\n"),
            ),
        ],
        r#"{"spec":{"senderAccountIds":["123456789012","210987654321"]}}"#,
    )
    .await
}

fn rule(name: &str, extra: &str) -> String {
    format!(
        r#"apiVersion: cwo.dev/v1alpha1
kind: SamplingRule
metadata:
  name: {name}
spec:
  priority: 100
  fixedRate: 0.05
  reservoirSize: 2
  serviceName: checkout
{extra}"#
    )
}

#[tokio::test]
async fn sampling_rule_in_every_state_reads_right_in_kstatus_and_argo_cd() -> Result<()> {
    // Stalled on AlreadyExistsUnowned and LimitExceeded: the schema now refuses the sampling
    // rule specs X-Ray would (49 user tags, leaving no room for the ownership tags, was the last).
    every_state(
        "SamplingRule",
        OperatorOptions::default(),
        async |s| {
            // 25 custom rules, X-Ray's limit per region: "mine" (adopted below), "theirs" (which
            // no object may take) and 23 more.
            let xray = aws_sdk_xray::Client::new(&s.sdk);
            let names = ["mine".to_string(), "theirs".to_string()]
                .into_iter()
                .chain((0..23).map(|i| format!("filler-{i}")));
            for (i, name) in names.enumerate() {
                let rule = aws_sdk_xray::types::SamplingRule::builder()
                    .rule_name(name)
                    .resource_arn("*")
                    .priority(1000 + i as i32)
                    .fixed_rate(0.5)
                    .reservoir_size(1)
                    .service_name("*")
                    .service_type("*")
                    .host("*")
                    .http_method("*")
                    .url_path("*")
                    .version(1)
                    .build()?;
                xray.create_sampling_rule()
                    .sampling_rule(rule)
                    .send()
                    .await?;
            }
            Ok(())
        },
        vec![
            Case::ready("mine", rule("mine", "  adoption: IfUnowned\n")),
            Case::waiting(
                "absent",
                "NotFound",
                rule("absent", "  managementPolicy: ObserveOnly\n"),
            ),
            Case::stalled("theirs", "AlreadyExistsUnowned", rule("theirs", "")),
            Case::stalled("one-too-many", "LimitExceeded", rule("one-too-many", "")),
        ],
        r#"{"spec":{"fixedRate":0.2}}"#,
    )
    .await
}

/// An AWSAccount for the operator of `s` (the label it serves; AWSAccounts are cluster-scoped,
/// so the name carries the scenario's namespace) assuming the role of `account`.
fn aws_account(s: &Scenario, suffix: &str, account: &str, extra: &str) -> (String, String) {
    let namespace = s.namespace();
    let name = format!("{namespace}-{suffix}");
    let manifest = format!(
        r#"apiVersion: cwo.dev/v1alpha1
kind: AWSAccount
metadata:
  name: {name}
  labels:
    {E2E_OPERATOR_LABEL}: {namespace}
spec:
  roleArn: arn:aws:iam::{account}:role/cloudwatch-operator
  namespaces: [{namespace}]
{extra}"#
    );
    (name, manifest)
}

#[tokio::test]
async fn aws_account_in_every_state_reads_right_in_kstatus_and_argo_cd() -> Result<()> {
    // The trusted role's account, and one whose role trusts another account than the
    // operator's.
    const TRUSTED: &str = "444444444444";
    const UNTRUSTED: &str = "555555555555";
    let role = |account: &str, principal: &str| Role {
        arn: format!("arn:aws:iam::{account}:role/cloudwatch-operator"),
        trust: vec![Trust {
            principal: principal.into(),
            external_id: None,
        }],
        max_session_duration: 3_600,
    };
    every_state_with(
        "AWSAccount",
        OperatorOptions::default(),
        async |s| {
            s.emulator
                .inner()
                .put_role(role(TRUSTED, DEFAULT_ACCOUNT))?;
            s.emulator
                .inner()
                .put_role(role(UNTRUSTED, "999999999999"))?;
            Ok(())
        },
        |s| {
            let (trusted, trusted_manifest) = aws_account(s, "trusted", TRUSTED, "");
            let (untrusted, untrusted_manifest) = aws_account(s, "untrusted", UNTRUSTED, "");
            // A requirement `In` without values: the schema takes any label selector, the
            // operator cannot read this one.
            let (bad, bad_manifest) = aws_account(
                s,
                "bad-selector",
                TRUSTED,
                "  namespaceSelector:\n    matchExpressions:\n      - {key: env, operator: In}\n",
            );
            vec![
                Case::ready(trusted, trusted_manifest),
                // Retried: fixing the role's trust policy is noticed.
                Case::waiting(untrusted, "AccessDenied", untrusted_manifest),
                Case::stalled(bad, "InvalidSpec", bad_manifest),
            ]
        },
        r#"{"spec":{"sessionDurationSeconds":900}}"#,
    )
    .await
}
