//! SamplingRule end to end: the real operator binary on the real API server, against the
//! emulator's X-Ray through the real AWS SDK. Every emulator region starts with X-Ray's Default
//! rule, as every AWS account does.

use anyhow::Result;
use aws_sdk_xray::Client;
use aws_sdk_xray::types::{SamplingRule as XRule, SamplingRuleRecord, SamplingRuleUpdate};
use cloudwatch_operator::aws::CRASH_AFTER_ENV;
use cloudwatch_operator::common_fields::{MAX_TAGS, MAX_USER_TAGS};
use cwo_e2e::operator::{OperatorOptions, Scenario};
use cwo_emulator::EmulatorConfig;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// A custom SamplingRule with `extra` spec lines.
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

/// A SamplingRule for X-Ray's Default rule with `extra` spec lines.
fn default_rule(name: &str, extra: &str) -> String {
    format!(
        r#"apiVersion: cwo.dev/v1alpha1
kind: SamplingRule
metadata:
  name: {name}
spec:
  ruleName: Default
  deletionPolicy: Retain
{extra}"#
    )
}

async fn all_rules(xr: &Client) -> Vec<SamplingRuleRecord> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = xr
            .get_sampling_rules()
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        out.extend(page.sampling_rule_records().iter().cloned());
        match page.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => return out,
        }
    }
}

pub(crate) async fn find(xr: &Client, name: &str) -> Option<XRule> {
    all_rules(xr)
        .await
        .into_iter()
        .filter_map(|r| r.sampling_rule)
        .find(|r| r.rule_name() == Some(name))
}

/// Waits up to 30 s until the rule `name` satisfies `check` (`None`: the rule is missing).
async fn wait_rule(
    s: &Scenario,
    xr: &Client,
    what: &str,
    check: impl Fn(Option<&XRule>) -> bool,
) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let name = what.split_whitespace().next().unwrap_or_default();
        if check(find(xr, name).await.as_ref()) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            anyhow::bail!(
                "timed out waiting for {what}\n--- operator log (tail) ---\n{}",
                s.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(crate) async fn tags(xr: &Client, name: &str) -> BTreeMap<String, String> {
    let arn = find(xr, name).await.unwrap().rule_arn.unwrap();
    xr.list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap()
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

/// Creates a rule outside the operator, as a user or another tool would.
async fn create_out_of_band(xr: &Client, name: &str, priority: i32) -> Result<()> {
    let rule = XRule::builder()
        .rule_name(name)
        .resource_arn("*")
        .priority(priority)
        .fixed_rate(0.5)
        .reservoir_size(1)
        .service_name("*")
        .service_type("*")
        .host("*")
        .http_method("*")
        .url_path("*")
        .version(1)
        .build()?;
    xr.create_sampling_rule().sampling_rule(rule).send().await?;
    Ok(())
}

fn xray_calls(s: &Scenario, operation: &str) -> u64 {
    s.emulator.calls().total_of("xray", operation)
}

const ERROR_REASONS: [&str; 6] = [
    "InvalidSpec",
    "AlreadyExistsUnowned",
    "LimitExceeded",
    "AwsUnavailable",
    "Throttled",
    "NotFound",
];

#[tokio::test]
async fn sampling_rule_is_created_updated_retagged_and_idle_resyncs_share_reads_and_write_nothing()
-> Result<()> {
    let mut s = Scenario::start("sr-lifecycle").await?;
    let xr = Client::new(&s.sdk);
    s.apply_yaml(&rule("checkout", "  tags:\n    team: web\n"))?;
    s.wait_ready("samplingrule", "checkout").await?;

    let created = find(&xr, "checkout").await.expect("rule exists in X-Ray");
    assert_eq!(
        (created.priority, created.fixed_rate, created.reservoir_size),
        (100, 0.05, 2)
    );
    assert_eq!(created.service_name, "checkout");
    assert_eq!(
        (
            created.host.as_str(),
            created.url_path.as_str(),
            created.version
        ),
        ("*", "*", 1)
    );
    let t = tags(&xr, "checkout").await;
    assert_eq!(t.get("team").map(String::as_str), Some("web"));
    let ns = s.namespace().to_string();
    assert_eq!(
        t.get("cwo.dev/owner"),
        Some(&format!("e2e/{ns}/SamplingRule/checkout"))
    );
    let obj = s.get("samplingrule", "checkout")?.unwrap();
    assert_eq!(obj["status"]["awsName"], "checkout");
    assert_eq!(obj["status"]["region"], "us-east-1");
    assert!(
        obj["status"]["arn"]
            .as_str()
            .unwrap()
            .ends_with(":sampling-rule/checkout")
    );
    assert!(obj["status"]["createdAt"].is_string(), "{}", obj["status"]);
    assert_eq!(xray_calls(&s, "CreateSamplingRule"), 1);

    // A restart finds the rule as the create left it: its status says the same, so nothing is
    // rewritten (a create that words its Ready message differently costs a write per rule).
    s.operator().kill();
    s.start_operator()?;
    s.wait_for(
        "the restarted operator to finish reconciling the rule",
        Duration::from_secs(60),
        || {
            let reconciles = s.operator_scrape()?.value(
                "cwo_reconcile_duration_seconds_count",
                &[("kind", "SamplingRule")],
            )?;
            Ok((reconciles >= 1.0).then_some(()))
        },
    )
    .await?;
    assert_eq!(
        s.status_writes("SamplingRule")?,
        0,
        "a restart rewrote the status of a rule it had just created"
    );

    // Update the rate, a matcher, the attributes and a boost: one UpdateSamplingRule.
    s.emulator.reset_calls();
    let updated = "  tags:\n    team: web\n  resourceArn: arn:aws:ecs:*\n  attributes:\n    tier: gold\n  \
                   samplingRateBoost:\n    maxRate: 0.5\n    cooldownWindowMinutes: 5\n";
    s.apply_yaml(&rule("checkout", updated).replace("fixedRate: 0.05", "fixedRate: 0.2"))?;
    s.wait_ready("samplingrule", "checkout").await?;
    let after = find(&xr, "checkout").await.unwrap();
    assert_eq!(after.fixed_rate, 0.2);
    assert_eq!(after.resource_arn, "arn:aws:ecs:*");
    assert_eq!(
        after
            .attributes()
            .and_then(|a| a.get("tier"))
            .map(String::as_str),
        Some("gold")
    );
    assert_eq!(after.sampling_rate_boost().map(|b| b.max_rate), Some(0.5));
    assert_eq!(
        xray_calls(&s, "UpdateSamplingRule"),
        1,
        "one update per spec change"
    );
    assert_eq!(xray_calls(&s, "CreateSamplingRule"), 0);

    // Attributes removed from the spec are removed in X-Ray; tags change through TagResource.
    s.emulator.reset_calls();
    let retagged = "  tags:\n    owner: sre\n  resourceArn: arn:aws:ecs:*\n  \
                    samplingRateBoost:\n    maxRate: 0.5\n    cooldownWindowMinutes: 5\n";
    s.apply_yaml(&rule("checkout", retagged).replace("fixedRate: 0.05", "fixedRate: 0.2"))?;
    s.wait_ready("samplingrule", "checkout").await?;
    let after = find(&xr, "checkout").await.unwrap();
    assert!(after.attributes().is_none_or(|a| a.is_empty()), "{after:?}");
    let t = tags(&xr, "checkout").await;
    assert_eq!(t.get("owner").map(String::as_str), Some("sre"));
    assert!(!t.contains_key("team"), "removed tag is untagged: {t:?}");
    assert_eq!(xray_calls(&s, "TagResource"), 1);
    assert_eq!(xray_calls(&s, "UntagResource"), 1);

    // Five more rules, then idle: resyncs (3 s) read through one shared listing per round and
    // write nothing, to AWS or to the status.
    for i in 0..5 {
        s.apply_yaml(
            &rule(&format!("extra-{i}"), "")
                .replace("priority: 100", &format!("priority: {}", 200 + i)),
        )?;
    }
    for i in 0..5 {
        s.wait_ready("samplingrule", &format!("extra-{i}")).await?;
    }
    // One resync after the creates: the Ready message moves from "created" to "matches the spec".
    tokio::time::sleep(Duration::from_secs(5)).await;
    let status_writes_before = s.status_writes("SamplingRule")?;
    s.emulator.reset_calls();
    tokio::time::sleep(Duration::from_secs(15)).await;
    let calls = s.emulator.calls();
    assert_eq!(calls.writes(), 0, "idle resyncs made AWS writes: {calls:?}");
    let listings = calls.total_of("xray", "GetSamplingRules");
    cwo_e2e::report(&format!(
        "  ok  6 idle SamplingRules over 15 s: {listings} GetSamplingRules calls"
    ));
    // Six objects resyncing about five times each would list 30 times on their own.
    assert!(
        (3..=15).contains(&listings),
        "resyncs share listings: {listings} GetSamplingRules calls"
    );
    assert_eq!(
        s.status_writes("SamplingRule")?,
        status_writes_before,
        "idle resyncs wrote status"
    );
    Ok(())
}

#[tokio::test]
async fn drift_is_put_back_and_a_rule_deleted_out_of_band_is_recreated() -> Result<()> {
    let s = Scenario::start("sr-drift").await?;
    let xr = Client::new(&s.sdk);
    s.apply_yaml(&rule("drifty", ""))?;
    s.wait_ready("samplingrule", "drifty").await?;

    xr.update_sampling_rule()
        .sampling_rule_update(
            SamplingRuleUpdate::builder()
                .rule_name("drifty")
                .fixed_rate(0.9)
                .priority(7)
                .host("example.com")
                .build(),
        )
        .send()
        .await?;
    wait_rule(&s, &xr, "drifty put back", |r| {
        r.is_some_and(|r| r.fixed_rate == 0.05 && r.priority == 100 && r.host == "*")
    })
    .await?;
    s.wait_for("DriftCorrected event", Duration::from_secs(20), || {
        Ok(s.event_reasons("drifty")?
            .contains(&"DriftCorrected".to_string())
            .then_some(()))
    })
    .await?;

    xr.delete_sampling_rule().rule_name("drifty").send().await?;
    wait_rule(&s, &xr, "drifty recreated", |r| r.is_some()).await?;
    s.wait_for("Recreated event", Duration::from_secs(20), || {
        Ok(s.event_reasons("drifty")?
            .contains(&"Recreated".to_string())
            .then_some(()))
    })
    .await?;
    assert!(
        tags(&xr, "drifty").await.contains_key("cwo.dev/owner"),
        "the new rule is tagged as ours"
    );
    Ok(())
}

#[tokio::test]
async fn a_boost_removed_from_the_spec_is_removed_by_replacing_the_rule() -> Result<()> {
    let s = Scenario::start("sr-boost").await?;
    let xr = Client::new(&s.sdk);
    let boost = "  samplingRateBoost:\n    maxRate: 0.5\n    cooldownWindowMinutes: 5\n";
    s.apply_yaml(&rule("boosted", boost))?;
    s.wait_ready("samplingrule", "boosted").await?;
    assert!(
        find(&xr, "boosted")
            .await
            .unwrap()
            .sampling_rate_boost
            .is_some()
    );

    s.emulator.reset_calls();
    s.apply_yaml(&rule("boosted", ""))?;
    wait_rule(&s, &xr, "boosted without its boost", |r| {
        r.is_some_and(|r| r.sampling_rate_boost.is_none())
    })
    .await?;
    s.wait_ready("samplingrule", "boosted").await?;
    assert_eq!(xray_calls(&s, "DeleteSamplingRule"), 1);
    assert_eq!(xray_calls(&s, "CreateSamplingRule"), 1);
    assert!(
        s.event_reasons("boosted")?
            .contains(&"Replaced".to_string())
    );
    assert!(tags(&xr, "boosted").await.contains_key("cwo.dev/owner"));
    Ok(())
}

#[tokio::test]
async fn delete_removes_the_rule_and_retain_leaves_it() -> Result<()> {
    let s = Scenario::start("sr-delete").await?;
    let xr = Client::new(&s.sdk);
    s.apply_yaml(&rule("gone", ""))?;
    s.apply_yaml(
        &rule("kept", "  deletionPolicy: Retain\n").replace("priority: 100", "priority: 101"),
    )?;
    s.wait_ready("samplingrule", "gone").await?;
    s.wait_ready("samplingrule", "kept").await?;
    s.kubectl(["delete", "samplingrule", "gone", "kept", "--wait=false"])?
        .ok()?;
    s.wait_gone("samplingrule", "gone").await?;
    s.wait_gone("samplingrule", "kept").await?;
    assert!(find(&xr, "gone").await.is_none(), "Delete removes the rule");
    assert!(find(&xr, "kept").await.is_some(), "Retain leaves the rule");
    Ok(())
}

#[tokio::test]
async fn an_existing_rule_is_adopted_only_when_the_policy_allows() -> Result<()> {
    let s = Scenario::start("sr-adopt").await?;
    let xr = Client::new(&s.sdk);
    create_out_of_band(&xr, "theirs", 10).await?;
    create_out_of_band(&xr, "unowned", 11).await?;
    s.emulator.reset_calls();
    s.apply_yaml(&rule("theirs", ""))?;
    let message = s
        .wait_condition(
            "samplingrule",
            "theirs",
            "False",
            Some("AlreadyExistsUnowned"),
        )
        .await?;
    assert!(message.contains("adoption: IfUnowned"), "{message}");
    assert_eq!(
        find(&xr, "theirs").await.unwrap().fixed_rate,
        0.5,
        "not overwritten"
    );
    assert_eq!(s.aws_writes(), 0, "a refused take-over writes nothing");

    s.apply_yaml(&rule("unowned", "  adoption: IfUnowned\n"))?;
    s.wait_ready("samplingrule", "unowned").await?;
    let adopted = find(&xr, "unowned").await.unwrap();
    assert_eq!((adopted.fixed_rate, adopted.priority), (0.05, 100));
    assert!(
        tags(&xr, "unowned").await.contains_key("cwo.dev/owner"),
        "adopted rule is tagged as ours"
    );
    assert!(s.event_reasons("unowned")?.contains(&"Adopted".to_string()));
    assert_eq!(
        xray_calls(&s, "CreateSamplingRule"),
        0,
        "an existing rule is never created again"
    );

    // Deleting the refused object must not delete someone else's rule.
    s.kubectl(["delete", "samplingrule", "theirs"])?.ok()?;
    assert!(
        find(&xr, "theirs").await.is_some(),
        "someone else's rule survives"
    );
    Ok(())
}

#[tokio::test]
async fn observe_only_reports_without_writing() -> Result<()> {
    let s = Scenario::start("sr-observe").await?;
    let xr = Client::new(&s.sdk);
    create_out_of_band(&xr, "watched", 50).await?;
    s.emulator.reset_calls();
    s.apply_yaml(&rule("watched", "  managementPolicy: ObserveOnly\n"))?;
    let message = s
        .wait_condition("samplingrule", "watched", "True", Some("Observed"))
        .await?;
    assert!(
        message.contains("fixedRate") && message.contains("priority"),
        "differences are reported: {message}"
    );
    let obj = s.get("samplingrule", "watched")?.unwrap();
    assert!(
        obj["status"]["arn"]
            .as_str()
            .unwrap()
            .ends_with(":sampling-rule/watched")
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(s.aws_writes(), 0, "ObserveOnly never writes");

    s.apply_yaml(&rule("absent", "  managementPolicy: ObserveOnly\n"))?;
    s.wait_condition("samplingrule", "absent", "False", Some("NotFound"))
        .await?;
    s.kubectl(["delete", "samplingrule", "watched"])?.ok()?;
    assert!(
        find(&xr, "watched").await.is_some(),
        "deleting an observer leaves the rule"
    );
    assert_eq!(s.aws_writes(), 0);
    Ok(())
}

#[tokio::test]
async fn the_default_rule_cannot_be_broken() -> Result<()> {
    let s = Scenario::start("sr-default").await?;
    let xr = Client::new(&s.sdk);
    let original = find(&xr, "Default")
        .await
        .expect("every region has a Default rule");

    // The schema refuses anything but rate and reservoir, and a deletion policy that would try
    // to delete it.
    for (extra, expected) in [
        (
            "  priority: 5\n",
            "the Default rule only accepts fixedRate and reservoirSize",
        ),
        (
            "  serviceName: checkout\n",
            "the Default rule only accepts fixedRate and reservoirSize",
        ),
        ("", "deletionPolicy: Retain"),
    ] {
        let manifest = default_rule("bad-default", extra);
        let manifest = if extra.is_empty() {
            manifest.replace("Retain", "Delete")
        } else {
            manifest
        };
        let out = s
            .bed
            .kubectl_with_stdin(["apply", "-n", s.namespace(), "-f", "-"], &manifest)?;
        assert!(!out.success(), "accepted: {manifest}");
        assert!(out.combined().contains(expected), "{}", out.combined());
    }

    // Observing it writes nothing.
    s.emulator.reset_calls();
    s.apply_yaml(&default_rule(
        "observer",
        "  managementPolicy: ObserveOnly\n",
    ))?;
    s.wait_condition("samplingrule", "observer", "True", Some("Observed"))
        .await?;
    assert_eq!(s.aws_writes(), 0);

    // Managing its rate and reservoir changes those two and nothing else.
    s.apply_yaml(&default_rule(
        "tuned",
        "  adoption: IfUnowned\n  fixedRate: 0.1\n  reservoirSize: 3\n",
    ))?;
    s.wait_ready("samplingrule", "tuned").await?;
    let tuned = find(&xr, "Default").await.unwrap();
    assert_eq!((tuned.fixed_rate, tuned.reservoir_size), (0.1, 3));
    let unchanged = |r: &XRule| {
        (
            r.priority,
            r.resource_arn.clone(),
            r.service_name.clone(),
            r.host.clone(),
            r.url_path.clone(),
        )
    };
    assert_eq!(unchanged(&tuned), unchanged(&original));
    assert_eq!(tuned.priority, 10000);

    // Drift on the Default rule is put back.
    xr.update_sampling_rule()
        .sampling_rule_update(
            SamplingRuleUpdate::builder()
                .rule_name("Default")
                .fixed_rate(0.7)
                .build(),
        )
        .send()
        .await?;
    wait_rule(&s, &xr, "Default rate put back", |r| {
        r.is_some_and(|r| r.fixed_rate == 0.1)
    })
    .await?;

    // Deleting the objects never deletes (or tries to delete) the Default rule.
    s.kubectl(["delete", "samplingrule", "tuned", "observer"])?
        .ok()?;
    s.wait_gone("samplingrule", "tuned").await?;
    assert!(find(&xr, "Default").await.is_some());
    assert_eq!(xray_calls(&s, "DeleteSamplingRule"), 0);
    let reasons = s.event_reasons("tuned")?;
    assert!(
        !reasons.iter().any(|r| ERROR_REASONS.contains(&r.as_str())),
        "{reasons:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_crash_after_create_before_the_status_write_leaves_one_rule_and_ends_ready() -> Result<()>
{
    let crashing = OperatorOptions {
        env: vec![(CRASH_AFTER_ENV.into(), "CreateSamplingRule".into())],
        ..Default::default()
    };
    let mut s = Scenario::without_operator("sr-crash", EmulatorConfig::default(), crashing)?;
    let xr = Client::new(&s.sdk);
    s.start_operator()?;
    s.apply_yaml(&rule("survivor", "  tags:\n    team: web\n"))?;
    s.wait_operator_exit(Duration::from_secs(60)).await?;
    assert_eq!(xray_calls(&s, "CreateSamplingRule"), 1);
    assert!(
        find(&xr, "survivor").await.is_some(),
        "the create went through"
    );
    let obj = s.get("samplingrule", "survivor")?.unwrap();
    assert!(
        obj["status"]["conditions"].is_null(),
        "no status was written: {}",
        obj["status"]
    );

    s.set_operator_options(OperatorOptions::default());
    s.emulator.reset_calls();
    s.start_operator()?;
    let message = s
        .wait_condition("samplingrule", "survivor", "True", Some("Available"))
        .await?;
    assert!(message.contains("matches the spec"), "{message}");
    let named: Vec<_> = all_rules(&xr)
        .await
        .into_iter()
        .filter_map(|r| r.sampling_rule)
        .filter(|r| r.rule_name() == Some("survivor"))
        .collect();
    assert_eq!(named.len(), 1, "no duplicate rule");
    assert_eq!(
        xray_calls(&s, "CreateSamplingRule"),
        0,
        "the rule found after the restart is ours"
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
async fn the_rule_limit_is_a_terminal_condition_giving_the_count() -> Result<()> {
    let s = Scenario::start("sr-limit").await?;
    let xr = Client::new(&s.sdk);
    for i in 0..25 {
        create_out_of_band(&xr, &format!("filler-{i}"), 1000 + i).await?;
    }
    s.emulator.reset_calls();
    s.apply_yaml(&rule("one-too-many", ""))?;
    let message = s
        .wait_condition(
            "samplingrule",
            "one-too-many",
            "False",
            Some("LimitExceeded"),
        )
        .await?;
    assert!(
        message.contains("already has 25 custom sampling rules"),
        "{message}"
    );
    let creates = xray_calls(&s, "CreateSamplingRule");
    assert_eq!(creates, 1);
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(
        xray_calls(&s, "CreateSamplingRule"),
        creates,
        "a terminal error is not retried"
    );
    let warnings = s
        .event_reasons("one-too-many")?
        .iter()
        .filter(|r| *r == "LimitExceeded")
        .count();
    assert_eq!(warnings, 1, "one Warning event, not one per retry");

    // Room made and the spec touched: the rule is created.
    xr.delete_sampling_rule()
        .rule_name("filler-0")
        .send()
        .await?;
    s.apply_yaml(&rule("one-too-many", "").replace("fixedRate: 0.05", "fixedRate: 0.06"))?;
    s.wait_ready("samplingrule", "one-too-many").await?;
    Ok(())
}

#[tokio::test]
async fn the_sampling_rule_examples_become_ready() -> Result<()> {
    let s = Scenario::start("sr-examples").await?;
    let xr = Client::new(&s.sdk);
    s.apply_file("examples/sampling-rule.yaml")?;
    s.apply_file("examples/sampling-rule-default.yaml")?;
    s.wait_ready("samplingrule", "checkout-orders").await?;
    s.wait_condition("samplingrule", "xray-default", "True", Some("Observed"))
        .await?;
    let created = find(&xr, "checkout-orders").await.unwrap();
    assert_eq!(
        (created.http_method.as_str(), created.url_path.as_str()),
        ("POST", "/api/orders*")
    );
    Ok(())
}

#[tokio::test]
async fn the_most_tags_the_schema_allows_fit_beside_the_ownership_tags() -> Result<()> {
    let s = Scenario::start("sr-tag-limit").await?;
    let xr = Client::new(&s.sdk);
    let user_tags = |n: usize| -> String { (0..n).map(|i| format!("    k{i}: v\n")).collect() };
    s.apply_yaml(&rule(
        "crowded",
        &format!("  tags:\n{}", user_tags(MAX_USER_TAGS)),
    ))?;
    s.wait_ready("samplingrule", "crowded").await?;
    let on_the_rule = tags(&xr, "crowded").await;
    assert_eq!(on_the_rule.len(), MAX_TAGS, "{on_the_rule:?}");
    assert!(on_the_rule.contains_key("cwo.dev/owner"), "{on_the_rule:?}");
    // One more would leave no room for the ownership tags: refused before X-Ray sees it.
    let refused = s
        .apply_yaml(&rule(
            "overcrowded",
            &format!("  tags:\n{}", user_tags(MAX_USER_TAGS + 1)),
        ))
        .unwrap_err();
    assert!(
        format!("{refused:#}").contains(&format!("must have at most {MAX_USER_TAGS} items")),
        "{refused:#}"
    );
    assert!(find(&xr, "overcrowded").await.is_none());
    Ok(())
}
