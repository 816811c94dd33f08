//! Step 3 of the SamplingRule reconcile: desired versus observed → the plan.
//!
//! UpdateSamplingRule changes only the members it carries and has no version member, so two
//! differences cannot be made in place: a version other than X-Ray's (only version 1 exists, so
//! this only happens to rules made elsewhere) and a rate boost that the spec no longer has (an
//! update without a boost leaves the existing boost alone). Those make the plan a replacement:
//! delete the rule, then create it again. Tags are planned separately because
//! CreateSamplingRule takes them on create only.

use super::desired::{DesiredRule, RuleFields};
use crate::field_diff::FieldChange;
use crate::tags::TagDiff;
use std::collections::BTreeMap;

/// What the configuration write of an existing rule must do. (A missing rule is created, or,
/// for the `Default` rule, reported; no plan is made for it.)
#[derive(Clone, Debug, PartialEq)]
pub enum RuleChange {
    /// These fields differ; one UpdateSamplingRule puts them right.
    Update { fields: Vec<String> },
    /// These fields differ, some of which an update cannot change: delete the custom rule and
    /// create it again as `with`.
    Replace {
        fields: Vec<String>,
        with: Box<RuleFields>,
    },
}

/// Every write one reconcile needs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RulePlan {
    /// The configuration write, if any.
    pub change: Option<RuleChange>,
    /// Tag changes for an existing rule.
    pub tags: TagDiff,
    /// The differences behind the change, field by field.
    pub changes: Vec<FieldChange>,
}

impl RulePlan {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.change.is_none() && self.tags.is_empty()
    }
}

/// Plans the writes that make the existing rule `observed` match `desired`. `observed_tags` is
/// `None` when the tags were not read this time; tags are then left alone.
pub fn plan(
    desired: &DesiredRule,
    observed: &RuleFields,
    desired_tags: &BTreeMap<String, String>,
    observed_tags: Option<&BTreeMap<String, String>>,
) -> RulePlan {
    let expected = desired.expected(observed);
    let update = crate::plan::update(&expected, observed, desired_tags, observed_tags);
    if update.fields.is_empty() {
        return RulePlan {
            change: None,
            tags: update.tags,
            changes: Vec::new(),
        };
    }
    let fields = update.fields;
    match desired {
        // The rule is created again with every desired tag.
        DesiredRule::Custom(with) if needs_replacement(&expected, observed) => RulePlan {
            change: Some(RuleChange::Replace {
                fields,
                with: Box::new(with.clone()),
            }),
            tags: TagDiff::default(),
            changes: update.changes,
        },
        // The Default rule only ever differs in its rate and reservoir, which an update sets.
        _ => RulePlan {
            change: Some(RuleChange::Update { fields }),
            tags: update.tags,
            changes: update.changes,
        },
    }
}

/// Whether making `observed` into `expected` needs more than UpdateSamplingRule can do.
pub fn needs_replacement(expected: &RuleFields, observed: &RuleFields) -> bool {
    expected.version != observed.version
        || (expected.sampling_rate_boost.is_none() && observed.sampling_rate_boost.is_some())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::sampling_rule::desired::{
        DefaultRuleSettings, WILDCARD, create_request, desired, update_request,
    };
    use crate::sampling_rule::observed::observed;
    use crate::sampling_rule::spec::{SamplingRateBoost, SamplingRuleSpec};
    use aws_sdk_xray::types as xray;
    use proptest::prelude::*;

    fn client() -> aws_sdk_xray::Client {
        aws_sdk_xray::Client::from_conf(
            aws_sdk_xray::Config::builder()
                .behavior_version(aws_sdk_xray::config::BehaviorVersion::latest())
                .build(),
        )
    }

    /// What X-Ray stores from a CreateSamplingRule request: the rule as sent, with its ARN, and
    /// no attributes member when there are none.
    pub(crate) fn aws_after_create(name: &str, d: &DesiredRule) -> xray::SamplingRule {
        let DesiredRule::Custom(fields) = d else {
            panic!("only custom rules are created");
        };
        let b = create_request(client().create_sampling_rule(), name, fields, Vec::new());
        let mut rule = b.get_sampling_rule().clone().expect("a rule");
        rule.rule_arn = Some(format!(
            "arn:aws:xray:us-east-1:123456789012:sampling-rule/{name}"
        ));
        if rule.attributes.as_ref().is_some_and(|a| a.is_empty()) {
            rule.attributes = None;
        }
        rule
    }

    /// What X-Ray stores after UpdateSamplingRule: the members the update carries replace the
    /// existing ones; the others stay.
    pub(crate) fn aws_after_update(
        existing: &xray::SamplingRule,
        name: &str,
        d: &DesiredRule,
    ) -> xray::SamplingRule {
        let b = update_request(client().update_sampling_rule(), name, d);
        let u = b.get_sampling_rule_update().clone().expect("an update");
        let mut rule = existing.clone();
        if let Some(v) = u.resource_arn {
            rule.resource_arn = v;
        }
        if let Some(v) = u.priority {
            rule.priority = v;
        }
        if let Some(v) = u.fixed_rate {
            rule.fixed_rate = v;
        }
        if let Some(v) = u.reservoir_size {
            rule.reservoir_size = v;
        }
        if let Some(v) = u.service_name {
            rule.service_name = v;
        }
        if let Some(v) = u.service_type {
            rule.service_type = v;
        }
        if let Some(v) = u.host {
            rule.host = v;
        }
        if let Some(v) = u.http_method {
            rule.http_method = v;
        }
        if let Some(v) = u.url_path {
            rule.url_path = v;
        }
        if let Some(v) = u.attributes {
            rule.attributes = Some(v);
        }
        if let Some(v) = u.sampling_rate_boost {
            rule.sampling_rate_boost = Some(v);
        }
        rule
    }

    /// X-Ray's `Default` rule as every account has it.
    pub(crate) fn default_rule() -> xray::SamplingRule {
        xray::SamplingRule::builder()
            .rule_name("Default")
            .rule_arn("arn:aws:xray:us-east-1:123456789012:sampling-rule/Default")
            .resource_arn(WILDCARD)
            .priority(10000)
            .fixed_rate(0.05)
            .reservoir_size(1)
            .service_name(WILDCARD)
            .service_type(WILDCARD)
            .host(WILDCARD)
            .http_method(WILDCARD)
            .url_path(WILDCARD)
            .version(1)
            .build()
            .unwrap()
    }

    pub(crate) fn checkout() -> SamplingRuleSpec {
        SamplingRuleSpec {
            priority: Some(100),
            fixed_rate: Some(0.05),
            reservoir_size: Some(2),
            service_name: Some("checkout".into()),
            http_method: Some("POST".into()),
            url_path: Some("/api/orders*".into()),
            ..Default::default()
        }
    }

    fn none() -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    fn opt_text(max: usize) -> impl Strategy<Value = Option<String>> {
        proptest::option::of(
            proptest::string::string_regex(&format!("[a-zA-Z0-9/*?._:-]{{1,{max}}}")).unwrap(),
        )
    }

    fn rate() -> impl Strategy<Value = f64> {
        prop_oneof![Just(0.0), Just(1.0), Just(-0.0), 0.0f64..=1.0]
    }

    prop_compose! {
        fn valid_spec()(
            priority in 1..=9999i32,
            fixed_rate in rate(),
            reservoir_size in 0..=i32::MAX,
            resource_arn in opt_text(500),
            service_name in opt_text(64),
            service_type in opt_text(64),
            host in opt_text(64),
            http_method in opt_text(10),
            url_path in opt_text(128),
            version in proptest::option::of(Just(1)),
            attributes in proptest::collection::btree_map("[a-z]{1,32}", "[a-z*?]{1,32}", 0..=5),
            boost in proptest::option::of((rate(), 0..=10_000i32)),
        ) -> SamplingRuleSpec {
            SamplingRuleSpec {
                priority: Some(priority),
                fixed_rate: Some(fixed_rate),
                reservoir_size: Some(reservoir_size),
                resource_arn, service_name, service_type, host, http_method, url_path, version,
                attributes,
                sampling_rate_boost: boost.map(|(max_rate, cooldown_window_minutes)| SamplingRateBoost {
                    max_rate, cooldown_window_minutes,
                }),
                ..Default::default()
            }
        }
    }

    proptest! {
        #[test]
        fn a_created_rule_read_back_matches_its_spec(spec in valid_spec()) {
            let d = desired(&spec, "rule");
            let stored = aws_after_create("rule", &d);
            let p = plan(&d, &observed(&stored), &none(), None);
            prop_assert!(p.is_empty(), "{:?}", p);
        }

        #[test]
        fn one_update_puts_any_changed_rule_right(before in valid_spec(), after in valid_spec()) {
            let stored = aws_after_create("rule", &desired(&before, "rule"));
            let d = desired(&after, "rule");
            match plan(&d, &observed(&stored), &none(), None).change {
                None => {}
                Some(RuleChange::Update { .. }) => {
                    let updated = aws_after_update(&stored, "rule", &d);
                    let p = plan(&d, &observed(&updated), &none(), None);
                    prop_assert!(p.is_empty(), "{:?}", p);
                }
                Some(RuleChange::Replace { .. }) => {
                    prop_assert!(after.sampling_rate_boost.is_none());
                    prop_assert!(before.sampling_rate_boost.is_some());
                }
            }
        }

        #[test]
        fn the_default_rule_converges_and_keeps_everything_but_rate_and_reservoir(
            fixed_rate in proptest::option::of(rate()),
            reservoir_size in proptest::option::of(0..=i32::MAX),
        ) {
            let spec = SamplingRuleSpec {
                rule_name: Some("Default".into()),
                fixed_rate,
                reservoir_size,
                ..Default::default()
            };
            let d = desired(&spec, "xray-default");
            let before = default_rule();
            let after = match plan(&d, &observed(&before), &none(), None).change {
                None => before.clone(),
                Some(RuleChange::Update { fields }) => {
                    prop_assert!(fields.iter().all(|f| f == "fixedRate" || f == "reservoirSize"), "{:?}", fields);
                    aws_after_update(&before, "Default", &d)
                }
                other => { prop_assert!(false, "{:?}", other); unreachable!() }
            };
            prop_assert!(plan(&d, &observed(&after), &none(), None).is_empty());
            let (b, a) = (observed(&before), observed(&after));
            prop_assert_eq!(
                RuleFields { fixed_rate: 0.0, reservoir_size: 0, ..a },
                RuleFields { fixed_rate: 0.0, reservoir_size: 0, ..b }
            );
        }
    }

    #[test]
    fn a_changed_rate_and_resource_arn_are_one_update_naming_both() {
        let d = desired(&checkout(), "checkout");
        let mut stored = aws_after_create("checkout", &d);
        stored.fixed_rate = 0.5;
        stored.resource_arn = "arn:aws:ecs:*".into();
        assert_eq!(
            plan(&d, &observed(&stored), &none(), None).change,
            Some(RuleChange::Update {
                fields: vec!["fixedRate".into(), "resourceArn".into()]
            })
        );
    }

    #[test]
    fn rate_noise_from_the_round_trip_is_not_a_change() {
        let d = desired(&checkout(), "checkout");
        let mut stored = aws_after_create("checkout", &d);
        stored.fixed_rate = 0.05 * (1.0 + 1e-15);
        assert!(plan(&d, &observed(&stored), &none(), None).is_empty());
    }

    #[test]
    fn a_boost_added_outside_the_operator_is_removed_by_replacing_the_rule() {
        let d = desired(&checkout(), "checkout");
        let mut stored = aws_after_create("checkout", &d);
        stored.sampling_rate_boost = Some(
            xray::SamplingRateBoost::builder()
                .max_rate(0.5)
                .cooldown_window_minutes(5)
                .build(),
        );
        let want = BTreeMap::from([("team".to_string(), "a".to_string())]);
        let p = plan(&d, &observed(&stored), &want, Some(&none()));
        assert_eq!(
            p.change,
            Some(RuleChange::Replace {
                fields: vec!["samplingRateBoost".into()],
                with: match &d {
                    DesiredRule::Custom(fields) => Box::new(fields.clone()),
                    DesiredRule::Default(_) => unreachable!("a custom rule"),
                },
            })
        );
        assert!(p.tags.is_empty(), "the new rule is created with its tags");
    }

    #[test]
    fn a_changed_boost_is_an_update() {
        let spec = SamplingRuleSpec {
            sampling_rate_boost: Some(SamplingRateBoost {
                max_rate: 0.5,
                cooldown_window_minutes: 5,
            }),
            ..checkout()
        };
        let d = desired(&spec, "checkout");
        let stored = aws_after_create("checkout", &desired(&checkout(), "checkout"));
        assert_eq!(
            plan(&d, &observed(&stored), &none(), None).change,
            Some(RuleChange::Update {
                fields: vec!["samplingRateBoost".into()]
            })
        );
    }

    #[test]
    fn the_default_rule_with_nothing_managed_is_never_written() {
        let d = DesiredRule::Default(DefaultRuleSettings::default());
        let mut changed = default_rule();
        changed.fixed_rate = 0.9;
        changed.reservoir_size = 9;
        assert!(plan(&d, &observed(&changed), &none(), None).is_empty());
    }

    #[test]
    fn the_default_rule_is_never_replaced() {
        let d = DesiredRule::Default(DefaultRuleSettings {
            fixed_rate: Some(0.1),
            reservoir_size: None,
        });
        let mut boosted = default_rule();
        boosted.sampling_rate_boost = Some(
            xray::SamplingRateBoost::builder()
                .max_rate(0.5)
                .cooldown_window_minutes(5)
                .build(),
        );
        boosted.version = 2;
        assert_eq!(
            plan(&d, &observed(&boosted), &none(), None).change,
            Some(RuleChange::Update {
                fields: vec!["fixedRate".into()]
            })
        );
    }

    #[test]
    fn tags_are_planned_only_when_read() {
        let d = desired(&checkout(), "checkout");
        let stored = observed(&aws_after_create("checkout", &d));
        let want = BTreeMap::from([("team".to_string(), "a".to_string())]);
        assert!(plan(&d, &stored, &want, None).is_empty());
        let p = plan(&d, &stored, &want, Some(&none()));
        assert_eq!(p.change, None);
        assert_eq!(p.tags.set, want);
    }
}
