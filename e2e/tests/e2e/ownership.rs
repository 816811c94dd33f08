//! Ownership tags end to end, at Kubernetes' extremes: the longest names in the longest namespace
//! become Ready with an owner tag AWS accepts (CloudWatch and X-Ray); another namespace's
//! shortened owner tag is refused and named; and an alarm an earlier version tagged with the full
//! form — 256 characters, which CloudWatch took — is still ours after an upgrade, moved to the
//! current form with one TagResource and nothing else.

use anyhow::Result;
use aws_sdk_cloudwatch::Client as CloudWatch;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic, Tag};
use aws_sdk_xray::Client as XRay;
use cloudwatch_operator::ownership::Owner;
use cwo_e2e::operator::{OperatorOptions, Scenario};
use cwo_emulator::EmulatorConfig;
use std::collections::BTreeMap;
use std::time::Duration;

/// The longest namespace name Kubernetes allows (a DNS label).
const LONGEST_NAMESPACE: usize = 63;
/// The longest object name Kubernetes allows (a DNS subdomain).
const LONGEST_NAME: usize = 253;

/// A valid object name of exactly `len` characters, told apart by `seed`.
fn name_of_length(seed: &str, len: usize) -> String {
    let mut name: String = format!("{seed}-checkout-latency-p99-")
        .chars()
        .cycle()
        .take(len - 1)
        .collect();
    name.push('0');
    name
}

fn alarm(name: &str) -> String {
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
"#
    )
}

/// Creates, outside the operator, the alarm [`alarm`] describes, carrying `tags`.
async fn put_alarm(cw: &CloudWatch, name: &str, tags: &[(&str, &str)]) -> Result<()> {
    let mut put = cw
        .put_metric_alarm()
        .alarm_name(name)
        .metric_name("CPUUtilization")
        .namespace("AWS/EC2")
        .statistic(Statistic::Average)
        .period(60)
        .evaluation_periods(3)
        .threshold(80.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .dimensions(
            Dimension::builder()
                .name("InstanceId")
                .value("i-0123456789abcdef0")
                .build(),
        );
    for (k, v) in tags {
        put = put.tags(Tag::builder().key(*k).value(*v).build());
    }
    put.send().await?;
    Ok(())
}

async fn alarm_arn(cw: &CloudWatch, name: &str) -> Result<String> {
    let out = cw.describe_alarms().alarm_names(name).send().await?;
    let alarm = out.metric_alarms().first().cloned();
    alarm
        .and_then(|a| a.alarm_arn)
        .ok_or_else(|| anyhow::anyhow!("alarm {name} has no ARN"))
}

async fn alarm_tags(cw: &CloudWatch, name: &str) -> Result<BTreeMap<String, String>> {
    let arn = alarm_arn(cw, name).await?;
    let out = cw.list_tags_for_resource().resource_arn(arn).send().await?;
    Ok(out
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
        .collect())
}

async fn rule_tags(xr: &XRay, rule_name: &str) -> Result<BTreeMap<String, String>> {
    let rules = xr.get_sampling_rules().send().await?;
    let arn = rules
        .sampling_rule_records()
        .iter()
        .filter_map(|r| r.sampling_rule.as_ref())
        .find(|r| r.rule_name() == Some(rule_name))
        .and_then(|r| r.rule_arn.clone())
        .ok_or_else(|| anyhow::anyhow!("no sampling rule {rule_name}"))?;
    let out = xr.list_tags_for_resource().resource_arn(arn).send().await?;
    Ok(out
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect())
}

/// The owner the operator (run with `--cluster-id e2e`) names for `kind`/`name` in `namespace`.
fn owner(namespace: &str, kind: &str, name: &str) -> Owner {
    Owner {
        cluster_id: "e2e".into(),
        namespace: namespace.into(),
        kind: kind.into(),
        name: name.into(),
        uid: String::new(),
    }
}

/// Checks what AWS holds against what every tag value must be, without the operator's code: at
/// most 255 characters of X-Ray's set, the namespace and kind readable in full, the identity's
/// hash at the end, and the object's UID beside it.
fn assert_owner_tags(tags: &BTreeMap<String, String>, namespace: &str, kind: &str, uid: &str) {
    let value = tags.get("cwo.dev/owner").expect("owner tag");
    assert!(value.len() <= 255, "{} characters: {value}", value.len());
    assert!(
        value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.:/=+-".contains(c)),
        "{value}"
    );
    assert!(
        value.starts_with(&format!("e2e/{namespace}/{kind}/")),
        "{value}"
    );
    let (_, hash) = value.rsplit_once('+').expect("a shortened value");
    assert!(
        hash.len() == 32 && hash.chars().all(|c| c.is_ascii_hexdigit()),
        "{value}"
    );
    assert_eq!(tags.get("cwo.dev/owner-uid").map(String::as_str), Some(uid));
}

fn uid_of(s: &Scenario, kind: &str, name: &str) -> Result<String> {
    let obj = s.get(kind, name)?.expect("object exists");
    Ok(obj["metadata"]["uid"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn the_longest_names_in_the_longest_namespace_become_ready_and_keep_other_owners_out()
-> Result<()> {
    let mut s = Scenario::without_operator_in_namespace_of_length(
        LONGEST_NAMESPACE,
        "own-long",
        EmulatorConfig::default(),
        OperatorOptions::default(),
    )?;
    s.start_operator()?;
    let ns = s.namespace().to_string();
    assert_eq!(ns.len(), LONGEST_NAMESPACE);
    let cw = CloudWatch::new(&s.sdk);
    let xr = XRay::new(&s.sdk);

    let alarm_name = name_of_length("alarm", LONGEST_NAME);
    let rule_object = name_of_length("rule", LONGEST_NAME);
    s.apply_yaml(&alarm(&alarm_name))?;
    s.apply_yaml(&format!(
        r#"apiVersion: cwo.dev/v1alpha1
kind: SamplingRule
metadata:
  name: {rule_object}
spec:
  ruleName: longest-owner
  priority: 100
  fixedRate: 0.05
  reservoirSize: 2
  serviceName: checkout
"#
    ))?;
    s.wait_condition("alarm", &alarm_name, "True", Some("Available"))
        .await?;
    s.wait_condition("samplingrule", &rule_object, "True", Some("Available"))
        .await?;

    let tags = alarm_tags(&cw, &alarm_name).await?;
    assert_owner_tags(&tags, &ns, "Alarm", &uid_of(&s, "alarm", &alarm_name)?);
    // Events are recorded for the longest names too (an Event's own name has room for them).
    let reasons = s.event_reasons(&alarm_name)?;
    assert!(reasons.iter().any(|r| r == "Created"), "{reasons:?}");
    assert!(
        !s.operator_logs().contains("could not publish event"),
        "an Event was refused"
    );
    let tags = rule_tags(&xr, "longest-owner").await?;
    assert_owner_tags(
        &tags,
        &ns,
        "SamplingRule",
        &uid_of(&s, "samplingrule", &rule_object)?,
    );

    // An alarm of the same length owned by an Alarm of that name in another 63-character
    // namespace: its owner value shares our readable prefix up to the namespace, and it stays
    // theirs.
    let contested = name_of_length("shared", LONGEST_NAME);
    let other_ns = format!("{}-other", &ns[..LONGEST_NAMESPACE - 6]);
    let theirs = owner(&other_ns, "Alarm", &contested).tag_value();
    put_alarm(
        &cw,
        &contested,
        &[
            ("cwo.dev/owner", &theirs),
            ("cwo.dev/owner-uid", "their-uid"),
        ],
    )
    .await?;
    s.emulator.reset_calls();
    s.apply_yaml(&alarm(&contested))?;
    let message = s
        .wait_condition("alarm", &contested, "False", Some("AlreadyExistsUnowned"))
        .await?;
    assert!(
        message.contains(&format!("belongs to Alarm {other_ns}/shared-checkout")),
        "{message}"
    );
    assert!(
        message.contains("… in cluster e2e (UID their-uid)"),
        "{message}"
    );
    assert_eq!(s.aws_writes(), 0, "a refused take-over writes nothing");
    assert_eq!(
        alarm_tags(&cw, &contested)
            .await?
            .get("cwo.dev/owner")
            .map(String::as_str),
        Some(theirs.as_str())
    );
    Ok(())
}

#[tokio::test]
async fn an_alarm_tagged_by_an_earlier_version_is_moved_to_the_current_form_without_a_takeover()
-> Result<()> {
    let mut s = Scenario::without_operator_in_namespace_of_length(
        LONGEST_NAMESPACE,
        "own-upgrade",
        EmulatorConfig::default(),
        OperatorOptions {
            // Confirmed objects have their tags re-read once per period: short, so the upgrade's
            // retag comes quickly.
            extra_args: vec!["--tag-resync-period".into(), "2s".into()],
            ..Default::default()
        },
    )?;
    s.start_operator()?;
    let ns = s.namespace().to_string();
    let cw = CloudWatch::new(&s.sdk);
    // "e2e/" + 63 + "/Alarm/" + 182 = 256 characters: the full form, which earlier versions
    // wrote and CloudWatch accepts, no longer fits the current limit of 255.
    let earlier_form = |name: &str| format!("e2e/{ns}/Alarm/{name}");

    // 1. An alarm this object created and the earlier version confirmed as its own.
    let managed = name_of_length("managed", 182);
    s.apply_yaml(&alarm(&managed))?;
    s.wait_condition("alarm", &managed, "True", Some("Available"))
        .await?;
    s.operator().kill();
    let arn = alarm_arn(&cw, &managed).await?;
    assert_eq!(earlier_form(&managed).len(), 256);
    cw.tag_resource()
        .resource_arn(&arn)
        .tags(
            Tag::builder()
                .key("cwo.dev/owner")
                .value(earlier_form(&managed))
                .build(),
        )
        .send()
        .await?;
    let before = s.get("alarm", &managed)?.unwrap();
    s.emulator.reset_calls();
    s.start_operator()?;

    let current = owner(&ns, "Alarm", &managed).tag_value();
    assert_ne!(current, earlier_form(&managed));
    s.wait_until(
        "the owner tag in its current form",
        Duration::from_secs(60),
        || {
            let (cw, managed, current) = (&cw, &managed, &current);
            async move {
                let tags = alarm_tags(cw, managed).await?;
                Ok((tags.get("cwo.dev/owner") == Some(current)).then_some(()))
            }
        },
    )
    .await?;
    // A few more resyncs and tag periods: nothing further is written.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let calls = s.emulator.calls();
    assert_eq!(calls.total_of("cloudwatch", "TagResource"), 1);
    assert_eq!(calls.writes(), 1, "only the retag is written: {calls:?}");
    let after = s.get("alarm", &managed)?.unwrap();
    assert_eq!(
        after["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"],
        "the status is not rewritten:\nbefore {}\nafter {}",
        before["status"], after["status"]
    );
    let reasons = s.event_reasons(&managed)?;
    // Events are recorded for a name this long: the creation's is there.
    assert!(reasons.iter().any(|r| r == "Created"), "{reasons:?}");
    assert!(
        !reasons
            .iter()
            .any(|r| r == "Adopted" || r == "DriftCorrected"),
        "{reasons:?}"
    );

    // 2. An alarm the earlier version created for an object that is applied again (restored
    // from Git into a rebuilt namespace of the same name): no status, so ownership is checked
    // at once; `adoption: Never` still finds it ours.
    let restored = name_of_length("restored", 182);
    put_alarm(
        &cw,
        &restored,
        &[
            ("cwo.dev/owner", &earlier_form(&restored)),
            ("cwo.dev/owner-uid", "uid-of-the-earlier-object"),
        ],
    )
    .await?;
    s.emulator.reset_calls();
    s.apply_yaml(&alarm(&restored))?;
    s.wait_condition("alarm", &restored, "True", Some("Available"))
        .await?;
    let tags = alarm_tags(&cw, &restored).await?;
    assert_eq!(
        tags.get("cwo.dev/owner"),
        Some(&owner(&ns, "Alarm", &restored).tag_value())
    );
    assert_eq!(
        tags.get("cwo.dev/owner-uid"),
        Some(&uid_of(&s, "alarm", &restored)?)
    );
    let calls = s.emulator.calls();
    assert_eq!(calls.total_of("cloudwatch", "PutMetricAlarm"), 0);
    assert_eq!(calls.writes(), 1, "one TagResource: {calls:?}");
    let reasons = s.event_reasons(&restored)?;
    assert!(!reasons.iter().any(|r| r == "Adopted"), "{reasons:?}");
    Ok(())
}
