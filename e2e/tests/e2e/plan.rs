//! `cloudwatch-operator plan` end to end: the real binary against the bed and the emulator. It
//! tells what applying the manifests would do, with the exit code CI reads, and writes nothing:
//! the emulator counts every call it answers and the cluster's objects keep their
//! resourceVersion.

use anyhow::{Context, Result};
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use cwo_e2e::KubectlOutput;
use cwo_e2e::operator::{OperatorOptions, Scenario};
use cwo_e2e::repo_root;
use cwo_emulator::sts::iam::{Role, Trust};
use cwo_emulator::{DEFAULT_ACCOUNT, EmulatorConfig};
use serde_json::{Value, json};

/// The plan `out` printed with `-o json`.
fn json_plan(out: &KubectlOutput) -> Result<Value> {
    serde_json::from_str(&out.stdout).with_context(|| format!("plan output is not JSON:\n{out}"))
}

/// The one object of a JSON plan.
fn only_object(plan: &Value) -> &Value {
    let objects = plan["objects"].as_array().expect("objects is a list");
    assert_eq!(objects.len(), 1, "{plan:#}");
    &objects[0]
}

fn example(name: &str) -> Result<String> {
    let path = repo_root().join("examples").join(name);
    std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
}

fn resource_version(s: &Scenario, kind: &str, name: &str) -> Result<String> {
    let obj = s.get(kind, name)?.context("object exists")?;
    Ok(obj["metadata"]["resourceVersion"]
        .as_str()
        .context("resourceVersion")?
        .to_string())
}

#[tokio::test]
async fn plan_tells_creates_updates_and_no_change_with_its_exit_code_and_writes_nothing()
-> Result<()> {
    let mut s = Scenario::without_operator(
        "plan",
        EmulatorConfig::default(),
        OperatorOptions::default(),
    )?;
    let ns = s.namespace().to_string();
    let examples = repo_root().join("examples");
    let examples = examples.to_str().context("path is UTF-8")?;

    // The role the example AWSAccount names, trusting the operator's account with the example's
    // external ID: the account checks out as its controller would find it, and writes nothing.
    s.emulator.inner().put_role(Role {
        arn: "arn:aws:iam::210987654321:role/cloudwatch-operator".into(),
        trust: vec![Trust {
            principal: DEFAULT_ACCOUNT.into(),
            external_id: Some("cwo-payments-prod".into()),
        }],
        max_session_duration: 3_600,
    })?;

    // An empty account: every example is a create, but X-Ray's Default rule, which always
    // exists and is only observed, and the AWSAccount, which holds nothing in AWS. The
    // Kustomization is set aside.
    let out = s.operator_command(["plan", "-f", examples, "-n", &ns, "-o", "json"], None)?;
    assert_eq!(out.status.code(), Some(2), "{out}");
    let plan = json_plan(&out)?;
    assert_eq!(
        plan["summary"],
        json!({"create": 15, "update": 0, "replace": 0, "noChange": 1, "observe": 1,
               "refused": 0, "waiting": 0, "failed": 0, "adopt": 0}),
        "{plan:#}"
    );
    assert_eq!(plan["objects"].as_array().map(Vec::len), Some(17));
    // The alarm on the metric filter's metric, and the subscription to the destination, are
    // planned against the filter and destination as the apply would leave them: creates too.
    for (kind, name) in [
        ("MetricFilter", "checkout-error-lines"),
        ("Alarm", "checkout-error-lines-high"),
        ("LogDestination", "central-logs"),
        ("LogSubscription", "orders-to-central"),
    ] {
        let object = plan["objects"]
            .as_array()
            .and_then(|o| o.iter().find(|o| o["kind"] == kind && o["name"] == name))
            .with_context(|| format!("{kind} {name} is planned"))?;
        assert_eq!(object["action"], "create", "{object:#}");
    }
    let account = plan["objects"]
        .as_array()
        .and_then(|o| o.iter().find(|o| o["kind"] == "AWSAccount"))
        .context("the AWSAccount is planned")?;
    assert_eq!(account["name"], "payments-prod", "{account:#}");
    assert_eq!(account["action"], "noChange", "{account:#}");
    assert!(
        plan["ignored"][0]
            .as_str()
            .is_some_and(|i| i.starts_with("Kustomization")),
        "{plan:#}"
    );
    let calls = s.emulator.calls();
    // The emulator counts every verb but Describe, Get and List as a write; AssumeRole (the
    // AWSAccount's check) only issues credentials and changes nothing the account holds.
    assert_eq!(calls.total_of("sts", "AssumeRole"), 1, "{calls:?}");
    assert_eq!(calls.writes() - 1, 0, "plan wrote to AWS: {calls:?}");
    assert!(
        calls.total_of("cloudwatch", "DescribeAlarms") >= 1,
        "plan read the alarms: {calls:?}"
    );
    let listed = s.kubectl([
        "get",
        "alarms,compositealarms,metricstreams,logsubscriptions,samplingrules,metricfilters,\
         logdestinations",
        "-o",
        "name",
    ])?;
    assert_eq!(
        listed.ok()?.stdout,
        "",
        "plan created objects in the cluster"
    );

    // The alarm applied and made by the operator: planning the same manifest changes nothing.
    s.start_operator()?;
    let alarm = example("alarm-cpu.yaml")?;
    s.apply_yaml(&alarm)?;
    s.wait_ready("alarm", "web-1-cpu-high").await?;
    s.operator().kill();
    let version = resource_version(&s, "alarm", "web-1-cpu-high")?;
    s.emulator.reset_calls();

    let out = s.operator_command(["plan", "-f", "-", "-n", &ns], Some(&alarm))?;
    assert_eq!(out.status.code(), Some(0), "{out}");
    assert!(
        out.stdout.starts_with(&format!(
            "no change  Alarm {ns}/web-1-cpu-high: alarm \"web-1-cpu-high\" in us-east-1\n"
        )),
        "{out}"
    );

    // An edit: exactly the edited fields, old → new, in the spec's names.
    let edited = alarm
        .replace("threshold: 80", "threshold: 90")
        .replace("service: web", "service: storefront");
    let out = s.operator_command(["plan", "-f", "-", "-n", &ns, "-o", "json"], Some(&edited))?;
    assert_eq!(out.status.code(), Some(2), "{out}");
    let plan = json_plan(&out)?;
    let object = only_object(&plan);
    assert_eq!(object["action"], "update", "{plan:#}");
    assert_eq!(
        object["changes"],
        json!([
            {"field": "threshold", "old": 80.0, "new": 90.0},
            {"field": "tags.service", "old": "web", "new": "storefront"},
        ]),
        "{plan:#}"
    );

    // As the kubectl plugin: the same binary installed as kubectl-cwo.
    let out = s.kubectl_cwo(["plan", "-f", "-", "-n", &ns], Some(&edited))?;
    assert_eq!(out.status.code(), Some(2), "{out}");
    assert!(out.stdout.contains("  threshold: 80.0 → 90.0\n"), "{out}");

    let calls = s.emulator.calls();
    assert_eq!(calls.writes(), 0, "plan wrote to AWS: {calls:?}");
    let cw = Client::new(&s.sdk);
    let live = cw
        .describe_alarms()
        .alarm_names("web-1-cpu-high")
        .send()
        .await?;
    assert_eq!(live.metric_alarms()[0].threshold, Some(80.0));
    assert_eq!(
        resource_version(&s, "alarm", "web-1-cpu-high")?,
        version,
        "plan wrote the object or its status"
    );
    Ok(())
}

#[tokio::test]
async fn plan_refuses_an_alarm_made_outside_the_operator_unless_adoption_allows_it() -> Result<()> {
    let s = Scenario::without_operator(
        "plan-refused",
        EmulatorConfig::default(),
        OperatorOptions::default(),
    )?;
    let ns = s.namespace().to_string();
    let cw = Client::new(&s.sdk);
    cw.put_metric_alarm()
        .alarm_name("made-by-hand")
        .namespace("AWS/EC2")
        .metric_name("CPUUtilization")
        .statistic(Statistic::Average)
        .period(60)
        .evaluation_periods(3)
        .threshold(80.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await?;
    let manifest = |extra: &str| {
        format!(
            "apiVersion: cwo.dev/v1alpha1\nkind: Alarm\nmetadata:\n  name: made-by-hand\nspec:\n  \
             namespace: AWS/EC2\n  metricName: CPUUtilization\n  statistic: Average\n  \
             period: 60\n  evaluationPeriods: 3\n  threshold: 80\n  \
             comparisonOperator: GreaterThanThreshold\n{extra}"
        )
    };
    s.emulator.reset_calls();

    // adoption: Never (the default): refused with the message the condition would show.
    let out = s.operator_command(
        ["plan", "-f", "-", "-n", &ns, "-o", "json"],
        Some(&manifest("")),
    )?;
    assert_eq!(out.status.code(), Some(1), "{out}");
    let plan = json_plan(&out)?;
    let object = only_object(&plan);
    assert_eq!(object["action"], "refused", "{plan:#}");
    assert_eq!(object["reason"], "AlreadyExistsUnowned", "{plan:#}");

    // adoption: IfUnowned: taken over without a change but the ownership tags, which are a
    // write, so the exit code says something would change.
    let out = s.operator_command(
        ["plan", "-f", "-", "-n", &ns, "-o", "json"],
        Some(&manifest("  adoption: IfUnowned\n")),
    )?;
    assert_eq!(out.status.code(), Some(2), "{out}");
    let plan = json_plan(&out)?;
    let object = only_object(&plan);
    assert_eq!(object["action"], "noChange", "{plan:#}");
    assert!(object["adopts"].is_string(), "{plan:#}");

    let calls = s.emulator.calls();
    assert_eq!(calls.writes(), 0, "plan wrote to AWS: {calls:?}");
    Ok(())
}
