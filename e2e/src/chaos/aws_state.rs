//! What AWS holds of the chaos fleet, read through the SDK, and how it differs from what the
//! objects say: an AWS object no object asks for (an orphan), a second AWS object for one object
//! (a duplicate), an object whose AWS object is missing or says something else.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use aws_sdk_cloudwatch::types::AlarmType;
use aws_types::SdkConfig;

use super::fleet::{Kind, Spec};

/// One AWS object: its kind, its name (the name of the object that manages it), where it lives
/// beyond the region (a subscription filter's log group), and what it says.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AwsObject {
    pub kind: Kind,
    pub name: String,
    pub location: String,
    pub value: String,
}

impl std::fmt::Display for AwsObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.location.is_empty() {
            write!(f, "{} {:?} ({})", self.kind.name(), self.name, self.value)
        } else {
            write!(
                f,
                "{} {:?} on {} ({})",
                self.kind.name(),
                self.name,
                self.location,
                self.value
            )
        }
    }
}

/// A way AWS differs from the objects.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Difference {
    /// An AWS object that no object asks for.
    Orphan(AwsObject),
    /// A second AWS object for one object, besides the one where the object says.
    Duplicate(AwsObject),
    /// An object whose AWS object is not where it says (`expected` is what it says).
    Missing { expected: AwsObject },
    /// An object whose AWS object says something else.
    Differs { expected: AwsObject, found: String },
}

impl Difference {
    /// The object the difference is about.
    pub fn name(&self) -> &str {
        match self {
            Difference::Orphan(o) | Difference::Duplicate(o) => &o.name,
            Difference::Missing { expected } | Difference::Differs { expected, .. } => {
                &expected.name
            }
        }
    }
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Difference::Orphan(o) => write!(f, "orphan: {o}, which no object asks for"),
            Difference::Duplicate(o) => {
                write!(f, "duplicate: {o}, a second AWS object for one object")
            }
            Difference::Missing { expected } => write!(f, "missing: {expected}"),
            Difference::Differs { expected, found } => {
                write!(f, "differs: {expected} shows {found}")
            }
        }
    }
}

/// The AWS objects the live objects `live` ask for.
pub fn expected(live: &BTreeMap<String, Spec>) -> Vec<AwsObject> {
    live.iter()
        .map(|(name, spec)| AwsObject {
            kind: spec.kind(),
            name: name.clone(),
            location: spec.location(),
            value: spec.aws_value(),
        })
        .collect()
}

/// How `found` (what AWS holds) differs from `expected` (what the objects ask for).
pub fn differences(expected: &[AwsObject], found: &[AwsObject]) -> Vec<Difference> {
    let wanted: BTreeMap<(Kind, &str), &AwsObject> = expected
        .iter()
        .map(|o| ((o.kind, o.name.as_str()), o))
        .collect();
    let mut out = BTreeSet::new();
    let mut at_place = BTreeSet::new();
    for o in found {
        match wanted.get(&(o.kind, o.name.as_str())) {
            None => {
                out.insert(Difference::Orphan(o.clone()));
            }
            Some(w) if w.location != o.location => {
                out.insert(Difference::Duplicate(o.clone()));
            }
            Some(w) => {
                at_place.insert((o.kind, o.name.as_str()));
                if w.value != o.value {
                    out.insert(Difference::Differs {
                        expected: (*w).clone(),
                        found: o.value.clone(),
                    });
                }
            }
        }
    }
    for w in expected {
        if !at_place.contains(&(w.kind, w.name.as_str())) {
            out.insert(Difference::Missing {
                expected: w.clone(),
            });
        }
    }
    out.into_iter().collect()
}

/// Everything AWS holds of the kinds the fleet uses: every metric and composite alarm, metric
/// stream, metric and subscription filter on `log_groups`, log destination, and sampling rule
/// but X-Ray's `Default`.
pub async fn read(sdk: &SdkConfig, log_groups: &[String]) -> Result<Vec<AwsObject>> {
    let mut out = Vec::new();
    let cw = aws_sdk_cloudwatch::Client::new(sdk);
    let mut pages = cw
        .describe_alarms()
        .alarm_types(AlarmType::MetricAlarm)
        .alarm_types(AlarmType::CompositeAlarm)
        .max_records(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page?;
        for a in page.metric_alarms() {
            out.push(AwsObject {
                kind: Kind::Alarm,
                name: a.alarm_name().unwrap_or_default().to_string(),
                location: String::new(),
                value: format!("threshold={}", a.threshold().unwrap_or(f64::NAN)),
            });
        }
        for c in page.composite_alarms() {
            let children = rule_children(c.alarm_rule().unwrap_or_default());
            out.push(AwsObject {
                kind: Kind::CompositeAlarm,
                name: c.alarm_name().unwrap_or_default().to_string(),
                location: String::new(),
                value: format!(
                    "children={}",
                    children.into_iter().collect::<Vec<_>>().join(",")
                ),
            });
        }
    }
    let mut token = None;
    loop {
        let page = cw
            .list_metric_streams()
            .set_next_token(token)
            .send()
            .await?;
        for entry in page.entries() {
            let name = entry.name().unwrap_or_default().to_string();
            let stream = cw.get_metric_stream().name(&name).send().await?;
            let include = stream
                .include_filters()
                .iter()
                .filter_map(|f| f.namespace())
                .collect::<Vec<_>>()
                .join(",");
            out.push(AwsObject {
                kind: Kind::MetricStream,
                name,
                location: String::new(),
                value: format!(
                    "state={} include={include}",
                    stream.state().unwrap_or_default()
                ),
            });
        }
        token = page
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let logs = aws_sdk_cloudwatchlogs::Client::new(sdk);
    for group in log_groups {
        let mut pages = logs
            .describe_metric_filters()
            .log_group_name(group)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for f in page?.metric_filters() {
                out.push(AwsObject {
                    kind: Kind::MetricFilter,
                    name: f.filter_name().unwrap_or_default().to_string(),
                    location: group.clone(),
                    value: format!("pattern={}", f.filter_pattern().unwrap_or_default()),
                });
            }
        }
    }
    let mut pages = logs.describe_destinations().into_paginator().send();
    while let Some(page) = pages.next().await {
        for d in page?.destinations() {
            out.push(AwsObject {
                kind: Kind::LogDestination,
                name: d.destination_name().unwrap_or_default().to_string(),
                location: String::new(),
                value: format!(
                    "senders={}",
                    policy_senders(d.access_policy().unwrap_or_default()).join(",")
                ),
            });
        }
    }
    for group in log_groups {
        let mut pages = logs
            .describe_subscription_filters()
            .log_group_name(group)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            for f in page?.subscription_filters() {
                out.push(AwsObject {
                    kind: Kind::LogSubscription,
                    name: f.filter_name().unwrap_or_default().to_string(),
                    location: group.clone(),
                    value: format!("pattern={}", f.filter_pattern().unwrap_or_default()),
                });
            }
        }
    }
    let xray = aws_sdk_xray::Client::new(sdk);
    let mut pages = xray.get_sampling_rules().into_paginator().send();
    while let Some(page) = pages.next().await {
        for record in page?.sampling_rule_records() {
            let Some(rule) = record.sampling_rule() else {
                continue;
            };
            let name = rule.rule_name().unwrap_or_default();
            if name == "Default" {
                continue;
            }
            out.push(AwsObject {
                kind: Kind::SamplingRule,
                name: name.to_string(),
                location: String::new(),
                value: format!("fixedRate={}", rule.fixed_rate()),
            });
        }
    }
    out.sort();
    Ok(out)
}

/// The sender accounts a destination's access policy names, sorted: every 12-digit account id in
/// it but the destination's own (which its ARNs carry).
pub fn policy_senders(policy: &str) -> Vec<String> {
    let mut out = BTreeSet::new();
    for run in policy.split(|c: char| !c.is_ascii_digit()) {
        if run.len() == 12 && run != cwo_emulator::DEFAULT_ACCOUNT {
            out.insert(run.to_string());
        }
    }
    out.into_iter().collect()
}

/// The alarm names a composite alarm's rule refers to: `ALARM("name")` or `ALARM(name)`.
pub fn rule_children(rule: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = rule;
    while let Some(at) = rest.find("ALARM(") {
        rest = &rest[at + "ALARM(".len()..];
        let Some(end) = rest.find(')') else { break };
        out.insert(rest[..end].trim().trim_matches('"').to_string());
        rest = &rest[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(name: &str, group: &str, pattern: &str) -> AwsObject {
        AwsObject {
            kind: Kind::LogSubscription,
            name: name.into(),
            location: group.into(),
            value: format!("pattern={pattern}"),
        }
    }

    fn alarm(name: &str, threshold: u32) -> AwsObject {
        AwsObject {
            kind: Kind::Alarm,
            name: name.into(),
            location: String::new(),
            value: format!("threshold={threshold}"),
        }
    }

    #[test]
    fn aws_holding_exactly_what_the_objects_say_differs_in_nothing() {
        let want = vec![alarm("a", 5), filter("s", "/g1", "ERROR")];
        assert_eq!(differences(&want, &want), vec![]);
    }

    #[test]
    fn a_filter_no_object_asks_for_is_an_orphan() {
        let want = vec![filter("s", "/g1", "ERROR")];
        let found = vec![filter("s", "/g1", "ERROR"), filter("gone", "/g1", "ERROR")];
        assert_eq!(
            differences(&want, &found),
            vec![Difference::Orphan(filter("gone", "/g1", "ERROR"))]
        );
    }

    #[test]
    fn a_filter_left_on_the_old_log_group_after_a_move_is_a_duplicate() {
        let want = vec![filter("s", "/g2", "ERROR")];
        let found = vec![filter("s", "/g1", "ERROR"), filter("s", "/g2", "ERROR")];
        assert_eq!(
            differences(&want, &found),
            vec![Difference::Duplicate(filter("s", "/g1", "ERROR"))]
        );
        // Only on the old one: the object's own filter is missing as well.
        let found = vec![filter("s", "/g1", "ERROR")];
        assert_eq!(
            differences(&want, &found),
            vec![
                Difference::Duplicate(filter("s", "/g1", "ERROR")),
                Difference::Missing {
                    expected: filter("s", "/g2", "ERROR")
                }
            ]
        );
    }

    #[test]
    fn a_missing_or_different_aws_object_is_reported_with_what_was_expected() {
        let want = vec![alarm("a", 5), alarm("b", 6)];
        let found = vec![alarm("a", 7)];
        assert_eq!(
            differences(&want, &found),
            vec![
                Difference::Missing {
                    expected: alarm("b", 6)
                },
                Difference::Differs {
                    expected: alarm("a", 5),
                    found: "threshold=7".into()
                },
            ]
        );
    }

    #[test]
    fn kinds_do_not_stand_in_for_each_other() {
        let want = vec![alarm("x", 1)];
        let mut other = alarm("x", 1);
        other.kind = Kind::CompositeAlarm;
        let d = differences(&want, std::slice::from_ref(&other));
        assert!(d.contains(&Difference::Orphan(other)), "{d:?}");
        assert!(d.iter().any(|d| matches!(d, Difference::Missing { .. })));
    }

    #[test]
    fn the_expected_objects_read_as_aws_is_read_back() {
        let mut live = BTreeMap::new();
        live.insert("a".to_string(), Spec::Alarm { threshold: 12 });
        live.insert(
            "c".to_string(),
            Spec::CompositeAlarm {
                children: ["a".to_string(), "b".to_string()].into(),
            },
        );
        let want = expected(&live);
        assert_eq!(want[0], alarm("a", 12));
        // The composite's value is what `read` makes of the rule the operator writes.
        let read_back = format!(
            "children={}",
            rule_children(r#"ALARM("a") OR ALARM("b")"#)
                .into_iter()
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(want[1].value, read_back);
        // An alarm threshold reads back as AWS's float prints it.
        assert_eq!(format!("threshold={}", 12.0_f64), "threshold=12");
    }

    #[test]
    fn policy_senders_are_the_account_ids_but_the_destinations_own() {
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
            "Principal":{"AWS":["200000000002","arn:aws:iam::200000000001:root"]},
            "Action":"logs:PutSubscriptionFilter",
            "Resource":"arn:aws:logs:us-east-1:123456789012:destination:d"}]}"#;
        assert_eq!(policy_senders(policy), ["200000000001", "200000000002"]);
        assert!(policy_senders("").is_empty());
        assert!(
            policy_senders(r#"{"Sid":"2000000000011"}"#).is_empty(),
            "13 digits are not an account id"
        );
    }

    #[test]
    fn rule_children_reads_quoted_and_bare_names() {
        assert_eq!(
            rule_children(r#"(ALARM("a-1") OR ALARM(b)) AND NOT ALARM( "c" )"#),
            ["a-1", "b", "c"].map(String::from).into()
        );
        assert!(rule_children("TRUE").is_empty());
    }
}
