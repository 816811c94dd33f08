//! Several AWS accounts end to end: objects of two namespaces land in the two accounts their
//! AWSAccounts grant them (by name and by namespace label), an object whose namespace is not
//! granted the account stops with AccountNotAllowed without a single AWS call, credentials are
//! renewed as the emulator's short sessions expire, an AWSAccount in use is held until its last
//! object is gone, and a role whose trust refuses the operator gives AccessDenied until the
//! trust is fixed.

use std::time::Duration;

use anyhow::{Context, Result};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use cwo_e2e::checks::TestNamespace;
use cwo_e2e::operator::{E2E_OPERATOR_LABEL, OperatorOptions, Scenario};
use cwo_emulator::sts::iam::{Role, Trust};
use cwo_emulator::{CallCounts, DEFAULT_ACCOUNT, EmulatorConfig};
use serde_json::Value;

/// The accounts the roles live in (the operator's own, [`DEFAULT_ACCOUNT`], is neither).
const ACCOUNT_A: &str = "111111111111";
const ACCOUNT_B: &str = "222222222222";
const ACCOUNT_C: &str = "333333333333";

/// Life of the emulator's credentials: the operator must renew them during the test.
const SESSION_SECONDS: u64 = 12;

fn role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/cloudwatch-operator")
}

fn role(account: &str, principal: &str, external_id: Option<&str>) -> Role {
    Role {
        arn: role_arn(account),
        trust: vec![Trust {
            principal: principal.into(),
            external_id: external_id.map(str::to_string),
        }],
        max_session_duration: 3_600,
    }
}

fn alarm(name: &str, label: &str, account_ref: Option<&str>) -> String {
    let account_ref = account_ref
        .map(|a| format!("  accountRef: {a}\n"))
        .unwrap_or_default();
    format!(
        r#"apiVersion: cwo.dev/v1alpha1
kind: Alarm
metadata:
  name: {name}
  labels:
    {label}
spec:
  metricName: CPUUtilization
  namespace: AWS/EC2
  statistic: Average
  period: 60
  evaluationPeriods: 3
  threshold: 80
  comparisonOperator: GreaterThanThreshold
{account_ref}"#
    )
}

fn sampling_rule(name: &str, label: &str, account_ref: Option<&str>) -> String {
    let account_ref = account_ref
        .map(|a| format!("  accountRef: {a}\n"))
        .unwrap_or_default();
    format!(
        r#"apiVersion: cwo.dev/v1alpha1
kind: SamplingRule
metadata:
  name: {name}
  labels:
    {label}
spec:
  priority: 100
  fixedRate: 0.05
  reservoirSize: 2
  serviceName: checkout
{account_ref}"#
    )
}

/// Calls to every operation of `service`.
fn service_calls(calls: &CallCounts, service: &str) -> u64 {
    calls
        .services
        .get(service)
        .map(|ops| ops.values().map(|c| c.total).sum())
        .unwrap_or_default()
}

/// Calls to CloudWatch, Logs, Firehose and X-Ray: everything but STS.
fn non_sts_calls(calls: &CallCounts) -> u64 {
    calls
        .services
        .iter()
        .filter(|(service, _)| service.as_str() != "sts")
        .flat_map(|(_, ops)| ops.values())
        .map(|c| c.total)
        .sum()
}

/// The alarms in `account` (a 12-digit access key is that account's in the emulator).
async fn alarm_names_in(s: &Scenario, account: &str) -> Result<Vec<String>> {
    let config = s
        .sdk
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            account, "e2e", None, None, "e2e",
        )))
        .build();
    let out = aws_sdk_cloudwatch::Client::new(&config)
        .describe_alarms()
        .send()
        .await?;
    Ok(out
        .metric_alarms()
        .iter()
        .filter_map(|a| a.alarm_name().map(str::to_string))
        .collect())
}

/// `kubectl get` of an object (`namespace` `None` for cluster-scoped ones) as JSON.
fn get(s: &Scenario, namespace: Option<&str>, kind: &str, name: &str) -> Result<Option<Value>> {
    let mut args = vec!["get", kind, name, "-o", "json"];
    if let Some(namespace) = namespace {
        args.extend(["-n", namespace]);
    }
    let out = s.bed.kubectl(&args)?;
    if !out.success() {
        if out.stderr.contains("NotFound") {
            return Ok(None);
        }
        anyhow::bail!("kubectl get {kind} {name}: {}", out.combined());
    }
    Ok(Some(serde_json::from_str(&out.stdout)?))
}

/// The object's condition `type_` as (status, reason, message), for its current generation.
fn condition(obj: &Value, type_: &str) -> Option<(String, String, String)> {
    let generation = obj["metadata"]["generation"].as_i64();
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_ && c["observedGeneration"].as_i64() == generation)
        .map(|c| {
            let text = |k: &str| c[k].as_str().unwrap_or_default().to_string();
            (text("status"), text("reason"), text("message"))
        })
}

/// Waits until the object's Ready condition has `status` and, if given, `reason`; returns the
/// object.
async fn wait_ready_is(
    s: &Scenario,
    namespace: Option<&str>,
    kind: &str,
    name: &str,
    status: &str,
    reason: Option<&str>,
    timeout: Duration,
) -> Result<Value> {
    s.wait_for(
        &format!("{kind} {name} in {namespace:?}: Ready={status} reason={reason:?}"),
        timeout,
        || {
            let Some(obj) = get(s, namespace, kind, name)? else {
                return Ok(None);
            };
            let fits = condition(&obj, "Ready")
                .is_some_and(|(st, re, _)| st == status && reason.is_none_or(|r| r == re));
            Ok(fits.then_some(obj))
        },
    )
    .await
}

fn kubectl_ok(s: &Scenario, args: &[&str]) -> Result<()> {
    s.bed.kubectl(args)?.ok().map(drop)
}

fn apply_in(s: &Scenario, namespace: &str, yaml: &str) -> Result<()> {
    s.bed
        .kubectl_with_stdin(["apply", "-n", namespace, "-f", "-"], yaml)?
        .ok()
        .map(drop)
}

fn apply_cluster(s: &Scenario, yaml: &str) -> Result<()> {
    s.bed
        .kubectl_with_stdin(["apply", "-f", "-"], yaml)?
        .ok()
        .map(drop)
}

/// A scenario whose operator watches every namespace but serves only the objects and
/// AWSAccounts labelled for this test; returns it with the label (`key=value`).
fn scenario(name: &str) -> Result<(Scenario, String)> {
    let config = EmulatorConfig {
        sts_session_seconds: Some(SESSION_SECONDS),
        ..EmulatorConfig::default()
    };
    let mut s = Scenario::without_operator(name, config, OperatorOptions::default())?;
    let selector = format!("{E2E_OPERATOR_LABEL}={}", s.namespace());
    s.set_operator_options(OperatorOptions {
        all_namespaces: true,
        extra_args: vec![
            "--label-selector".into(),
            selector.clone(),
            "--account-label-selector".into(),
            selector.clone(),
        ],
        ..OperatorOptions::default()
    });
    Ok((s, selector))
}

fn aws_account(name: &str, selector: &str, account: &str, grant: &str) -> String {
    let (key, value) = selector.split_once('=').unwrap();
    format!(
        r#"apiVersion: cwo.dev/v1alpha1
kind: AWSAccount
metadata:
  name: {name}
  labels:
    {key}: {value}
spec:
  roleArn: {}
{grant}"#,
        role_arn(account)
    )
}

#[tokio::test]
async fn objects_land_in_their_granted_accounts_and_a_namespace_not_granted_gets_no_aws_call()
-> Result<()> {
    let (mut s, selector) = scenario("accounts")?;
    let (label_key, label_value) = selector.split_once('=').unwrap();
    let label = format!("{label_key}: {label_value}");
    let ns_a = s.namespace().to_string();
    let ns_b = TestNamespace::create(s.bed, "accounts-b")?;
    let ns_c = TestNamespace::create(s.bed, "accounts-c")?;
    let (ns_b, ns_c) = (ns_b.name().to_string(), ns_c.name().to_string());
    let (acct_a, acct_b) = (format!("{ns_a}-a"), format!("{ns_a}-b"));

    // Account A trusts the operator's account; B trusts it with an external ID.
    let emulator = s.emulator.inner();
    emulator.put_role(role(ACCOUNT_A, DEFAULT_ACCOUNT, None))?;
    emulator.put_role(role(
        ACCOUNT_B,
        &format!("arn:aws:iam::{DEFAULT_ACCOUNT}:root"),
        Some("ext-b"),
    ))?;
    // A grants namespace A by name; B grants namespaces by a label only an admin sets. Namespaces
    // A and C both default to account A; only A is granted it.
    apply_cluster(
        &s,
        &aws_account(
            &acct_a,
            &selector,
            ACCOUNT_A,
            &format!("  namespaces: [{ns_a}]\n"),
        ),
    )?;
    apply_cluster(
        &s,
        &aws_account(
            &acct_b,
            &selector,
            ACCOUNT_B,
            &format!(
                "  externalId: ext-b\n  namespaceSelector:\n    matchLabels:\n      cwo-e2e/team-b: {ns_a}\n"
            ),
        ),
    )?;
    for ns in [&ns_a, &ns_c] {
        kubectl_ok(
            &s,
            &[
                "annotate",
                "namespace",
                ns,
                &format!("cwo.dev/account={acct_a}"),
            ],
        )?;
    }
    kubectl_ok(
        &s,
        &[
            "label",
            "namespace",
            &ns_b,
            &format!("cwo-e2e/team-b={ns_a}"),
        ],
    )?;
    s.start_operator()?;

    // The refused namespace first, while nothing else has called AWS: not one call, not even
    // AssumeRole for it.
    apply_in(&s, &ns_c, &alarm("refused-cpu", &label, None))?;
    let refused = wait_ready_is(
        &s,
        Some(&ns_c),
        "alarm",
        "refused-cpu",
        "False",
        Some("AccountNotAllowed"),
        Duration::from_secs(60),
    )
    .await?;
    let (_, _, message) = condition(&refused, "Ready").unwrap();
    assert!(
        message.contains(&acct_a) && message.contains(&ns_c),
        "{message}"
    );
    let stalled = condition(&refused, "Stalled").context("Stalled condition")?;
    assert_eq!(
        (stalled.0.as_str(), stalled.1.as_str()),
        ("True", "AccountNotAllowed")
    );
    tokio::time::sleep(Duration::from_secs(4)).await; // past a resync period
    assert_eq!(
        non_sts_calls(&s.emulator.calls()),
        0,
        "a refused object makes no AWS call: {:?}",
        s.emulator.calls()
    );

    // Namespace A by its annotation, namespace B by its accountRef.
    apply_in(&s, &ns_a, &alarm("cpu", &label, None))?;
    apply_in(&s, &ns_b, &alarm("cpu", &label, Some(&acct_b)))?;
    for (ns, account) in [(&ns_a, ACCOUNT_A), (&ns_b, ACCOUNT_B)] {
        let obj = wait_ready_is(
            &s,
            Some(ns),
            "alarm",
            "cpu",
            "True",
            None,
            Duration::from_secs(60),
        )
        .await?;
        assert_eq!(obj["status"]["accountId"], account, "{ns}");
        assert_eq!(
            obj["status"]["arn"],
            format!("arn:aws:cloudwatch:us-east-1:{account}:alarm:cpu"),
            "{ns}"
        );
        assert_eq!(
            s.emulator
                .inner()
                .calls_in(account)
                .total_of("cloudwatch", "PutMetricAlarm"),
            1,
            "{ns}: one alarm written in {account}"
        );
    }

    // Another kind behind the same boundary: a sampling rule in namespace C (account A by its
    // annotation, which A does not grant C) is refused without a single X-Ray call in any
    // account, while one in namespace B lands in account B by its accountRef.
    apply_in(&s, &ns_c, &sampling_rule("refused-rule", &label, None))?;
    let refused = wait_ready_is(
        &s,
        Some(&ns_c),
        "samplingrule",
        "refused-rule",
        "False",
        Some("AccountNotAllowed"),
        Duration::from_secs(60),
    )
    .await?;
    let stalled = condition(&refused, "Stalled").context("Stalled condition")?;
    assert_eq!(
        (stalled.0.as_str(), stalled.1.as_str()),
        ("True", "AccountNotAllowed")
    );
    apply_in(&s, &ns_b, &sampling_rule("checkout", &label, Some(&acct_b)))?;
    let rule = wait_ready_is(
        &s,
        Some(&ns_b),
        "samplingrule",
        "checkout",
        "True",
        None,
        Duration::from_secs(60),
    )
    .await?;
    assert_eq!(rule["status"]["accountId"], ACCOUNT_B);
    assert_eq!(
        rule["status"]["arn"],
        format!("arn:aws:xray:us-east-1:{ACCOUNT_B}:sampling-rule/checkout")
    );
    assert_eq!(
        s.emulator
            .inner()
            .calls_in(ACCOUNT_B)
            .total_of("xray", "CreateSamplingRule"),
        1,
        "one rule created in {ACCOUNT_B}"
    );
    tokio::time::sleep(Duration::from_secs(4)).await; // past a resync period
    for account in [ACCOUNT_A, ACCOUNT_C, DEFAULT_ACCOUNT] {
        assert_eq!(
            service_calls(&s.emulator.inner().calls_in(account), "xray"),
            0,
            "the refused rule called X-Ray in {account}"
        );
    }
    assert_eq!(
        condition(
            &get(&s, Some(&ns_c), "samplingrule", "refused-rule")?.context("refused-rule")?,
            "Ready"
        )
        .map(|(_, reason, _)| reason)
        .as_deref(),
        Some("AccountNotAllowed"),
        "still refused after a resync period"
    );
    // The granted rule is deleted in account B (the refused one goes with account A below).
    kubectl_ok(
        &s,
        &[
            "delete",
            "samplingrule",
            "checkout",
            "-n",
            &ns_b,
            "--wait=true",
            "--timeout=60s",
        ],
    )?;
    assert_eq!(
        s.emulator
            .inner()
            .calls_in(ACCOUNT_B)
            .total_of("xray", "DeleteSamplingRule"),
        1,
        "the rule deleted in {ACCOUNT_B}"
    );
    assert_eq!(
        non_sts_calls(&s.emulator.inner().calls_in(DEFAULT_ACCOUNT)),
        0,
        "nothing in the operator's own account"
    );
    for (name, account) in [(&acct_a, ACCOUNT_A), (&acct_b, ACCOUNT_B)] {
        let obj = wait_ready_is(
            &s,
            None,
            "awsaccount",
            name,
            "True",
            None,
            Duration::from_secs(60),
        )
        .await?;
        assert_eq!(obj["status"]["accountId"], account);
        assert!(obj["status"]["lastAssumeRoleTime"].is_string(), "{obj}");
        assert!(obj["status"].get("assumeRoleError").is_none(), "{obj}");
    }

    // Sessions of SESSION_SECONDS are renewed before they expire: AssumeRole is called again and
    // no call is refused for expired credentials.
    let assumed = || {
        s.emulator
            .inner()
            .calls_in(DEFAULT_ACCOUNT)
            .operation("sts", "AssumeRole")
            .ok
    };
    let first = assumed();
    s.wait_for(
        "sessions renewed",
        Duration::from_secs(3 * SESSION_SECONDS),
        || Ok((assumed() >= first + 2).then_some(())),
    )
    .await?;
    let reads_before = s
        .emulator
        .inner()
        .calls_in(ACCOUNT_A)
        .total_of("cloudwatch", "DescribeAlarms");
    s.wait_for(
        "a resync read with renewed credentials",
        Duration::from_secs(30),
        || {
            let reads = s
                .emulator
                .inner()
                .calls_in(ACCOUNT_A)
                .total_of("cloudwatch", "DescribeAlarms");
            Ok((reads > reads_before).then_some(()))
        },
    )
    .await?;
    let expired: u64 = s
        .emulator
        .calls()
        .services
        .values()
        .flat_map(|ops| ops.values())
        .filter_map(|c| {
            c.errors
                .get("ExpiredToken")
                .or(c.errors.get("ExpiredTokenException"))
        })
        .sum();
    assert_eq!(expired, 0, "no call was made with expired credentials");
    wait_ready_is(
        &s,
        Some(&ns_a),
        "alarm",
        "cpu",
        "True",
        None,
        Duration::from_secs(10),
    )
    .await?;

    // The refused object never reached AWS, in any account.
    for account in [ACCOUNT_A, ACCOUNT_B, DEFAULT_ACCOUNT] {
        let names = alarm_names_in(&s, account).await?;
        assert!(
            !names.iter().any(|n| n == "refused-cpu"),
            "{account}: {names:?}"
        );
    }

    // A grant added later wakes the refused object.
    apply_cluster(
        &s,
        &aws_account(
            &acct_a,
            &selector,
            ACCOUNT_A,
            &format!("  namespaces: [{ns_a}, {ns_c}]\n"),
        ),
    )?;
    let granted = wait_ready_is(
        &s,
        Some(&ns_c),
        "alarm",
        "refused-cpu",
        "True",
        None,
        Duration::from_secs(60),
    )
    .await?;
    assert_eq!(granted["status"]["accountId"], ACCOUNT_A);

    // An AWSAccount in use is held by its finalizer until its last object is gone.
    kubectl_ok(&s, &["delete", "awsaccount", &acct_a, "--wait=false"])?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let held = get(&s, None, "awsaccount", &acct_a)?.context("held AWSAccount")?;
    assert!(held["metadata"]["deletionTimestamp"].is_string(), "{held}");
    kubectl_ok(&s, &["delete", "alarm", "cpu", "-n", &ns_a, "--wait=false"])?;
    for kind in ["alarm", "samplingrule"] {
        let name = if kind == "alarm" {
            "refused-cpu"
        } else {
            "refused-rule"
        };
        kubectl_ok(&s, &["delete", kind, name, "-n", &ns_c, "--wait=false"])?;
    }
    s.wait_for("AWSAccount released", Duration::from_secs(60), || {
        Ok(get(&s, None, "awsaccount", &acct_a)?
            .is_none()
            .then_some(()))
    })
    .await?;
    assert_eq!(
        alarm_names_in(&s, ACCOUNT_A).await?,
        Vec::<String>::new(),
        "both alarms deleted in account A before it was released"
    );
    assert_eq!(alarm_names_in(&s, ACCOUNT_B).await?, ["cpu"]);
    kubectl_ok(
        &s,
        &[
            "delete",
            "alarm",
            "cpu",
            "-n",
            &ns_b,
            "--wait=true",
            "--timeout=60s",
        ],
    )?;
    kubectl_ok(
        &s,
        &[
            "delete",
            "awsaccount",
            &acct_b,
            "--wait=true",
            "--timeout=60s",
        ],
    )?;
    s.operator().kill();
    Ok(())
}

#[tokio::test]
async fn a_role_whose_trust_refuses_the_operator_gives_access_denied_until_trust_is_fixed()
-> Result<()> {
    let (mut s, selector) = scenario("accounts-denied")?;
    let (label_key, label_value) = selector.split_once('=').unwrap();
    let ns = s.namespace().to_string();
    let acct = format!("{ns}-c");
    s.emulator
        .inner()
        .put_role(role(ACCOUNT_C, "999999999999", None))?;
    apply_cluster(
        &s,
        &aws_account(
            &acct,
            &selector,
            ACCOUNT_C,
            &format!("  namespaces: [{ns}]\n"),
        ),
    )?;
    s.start_operator()?;
    apply_in(
        &s,
        &ns,
        &alarm("cpu", &format!("{label_key}: {label_value}"), Some(&acct)),
    )?;

    let denied = wait_ready_is(
        &s,
        Some(&ns),
        "alarm",
        "cpu",
        "False",
        Some("AccessDenied"),
        Duration::from_secs(60),
    )
    .await?;
    let (_, _, message) = condition(&denied, "Ready").unwrap();
    assert!(message.contains("sts:AssumeRole"), "{message}");
    let reconciling = condition(&denied, "Reconciling").context("Reconciling")?;
    assert_eq!(reconciling.0, "True", "AccessDenied is retried");
    let account = wait_ready_is(
        &s,
        None,
        "awsaccount",
        &acct,
        "False",
        Some("AccessDenied"),
        Duration::from_secs(60),
    )
    .await?;
    let error = account["status"]["assumeRoleError"]
        .as_str()
        .unwrap_or_default();
    assert!(
        error.contains("is not authorized to perform: sts:AssumeRole"),
        "{account}"
    );
    assert_eq!(non_sts_calls(&s.emulator.calls()), 0);

    // The trust is fixed in IAM; nothing changes in the cluster.
    s.emulator
        .inner()
        .put_role(role(ACCOUNT_C, DEFAULT_ACCOUNT, None))?;
    let ready = wait_ready_is(
        &s,
        Some(&ns),
        "alarm",
        "cpu",
        "True",
        None,
        Duration::from_secs(120),
    )
    .await?;
    assert_eq!(ready["status"]["accountId"], ACCOUNT_C);
    let account = wait_ready_is(
        &s,
        None,
        "awsaccount",
        &acct,
        "True",
        None,
        Duration::from_secs(120),
    )
    .await?;
    assert_eq!(account["status"]["accountId"], ACCOUNT_C);
    assert!(
        account["status"].get("assumeRoleError").is_none(),
        "{account}"
    );
    assert_eq!(
        s.emulator
            .inner()
            .calls_in(ACCOUNT_C)
            .total_of("cloudwatch", "PutMetricAlarm"),
        1
    );

    s.kubectl(["delete", "alarm", "cpu", "--wait=true", "--timeout=60s"])?
        .ok()?;
    kubectl_ok(
        &s,
        &[
            "delete",
            "awsaccount",
            &acct,
            "--wait=true",
            "--timeout=60s",
        ],
    )?;
    s.operator().kill();
    Ok(())
}
