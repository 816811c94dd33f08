//! An existing X-Ray sampling rule as the SamplingRule that manages it (`import`). X-Ray's
//! built-in `Default` rule is left out: every region has it, so it is not something an import
//! finds but something a team decides to tune.

use super::desired::{aws_name, desired, is_default_rule};
use super::observed::observed;
use super::spec::{SamplingRule, SamplingRuleSpec};
use crate::aws::{Aws, Location};
use crate::aws::{sampling_rules, xray_tags};
use crate::common_fields::{CommonSpec, XRayTags};
use crate::error::Result;
use crate::runtime::import::{Found, ImportNames, Importable, user_tags};
use aws_sdk_xray::types::SamplingRuleRecord;
use kube::ResourceExt;
use std::collections::BTreeMap;

impl Importable for SamplingRule {
    type Record = SamplingRuleRecord;
    const AWS_NOUN: &'static str = "sampling rule";

    async fn list(aws: &Aws, region: &str, _prefix: &str) -> Result<Vec<SamplingRuleRecord>> {
        let listing = sampling_rules::list_all(aws, &Location::of(region), false).await?;
        Ok(listing.records)
    }

    async fn tags(
        aws: &Aws,
        region: &str,
        record: &SamplingRuleRecord,
    ) -> Result<BTreeMap<String, String>> {
        let arn = record.sampling_rule().and_then(|s| s.rule_arn());
        xray_tags::list(aws, &Location::of(region), arn.unwrap_or_default()).await
    }

    /// GetSamplingRules always gives the rule and its name.
    fn record_name(record: &SamplingRuleRecord) -> &str {
        record
            .sampling_rule()
            .and_then(|r| r.rule_name())
            .unwrap_or_default()
    }

    fn not_imported(record: &SamplingRuleRecord) -> Option<String> {
        is_default_rule(Self::record_name(record)).then(|| {
            "X-Ray's built-in rule, in every region: to tune it, write a SamplingRule with \
             ruleName: Default"
                .to_string()
        })
    }

    fn manifest(
        found: &Found<SamplingRuleRecord>,
        name: &str,
        common: CommonSpec,
        _names: &ImportNames,
    ) -> SamplingRule {
        let fields = found
            .record
            .sampling_rule()
            .map(observed)
            .expect("GetSamplingRules lists each record with its rule");
        let spec = SamplingRuleSpec {
            common,
            rule_name: Some(Self::record_name(&found.record).to_string()),
            resource_arn: Some(fields.resource_arn),
            priority: Some(fields.priority),
            fixed_rate: Some(fields.fixed_rate),
            reservoir_size: Some(fields.reservoir_size),
            service_name: Some(fields.service_name),
            service_type: Some(fields.service_type),
            host: Some(fields.host),
            http_method: Some(fields.http_method),
            url_path: Some(fields.url_path),
            version: Some(fields.version),
            attributes: fields.attributes,
            sampling_rate_boost: fields.sampling_rate_boost,
            tags: XRayTags::from(user_tags(&found.tags)),
        };
        SamplingRule::new(name, spec)
    }

    /// The schema requires these of every rule but `Default`, which import leaves out.
    const ALWAYS_WRITTEN: &'static [&'static str] = &["priority", "fixedRate", "reservoirSize"];

    /// The desired step leaves the name out of the rule's fields, so it is compared too.
    fn same_request(a: &SamplingRule, b: &SamplingRule, _names: &ImportNames) -> bool {
        aws_name(&a.spec, &a.name_any()) == aws_name(&b.spec, &b.name_any())
            && desired(&a.spec, &a.name_any()) == desired(&b.spec, &b.name_any())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::import::import_one;
    use crate::sampling_rule::diff::plan;
    use aws_sdk_xray::types as xray;

    /// A rule as GetSamplingRules lists one the AWS CLI made with `*` for what it matches anyway.
    fn cli_rule(name: &str, service: &str) -> SamplingRuleRecord {
        let rule = xray::SamplingRule::builder()
            .rule_name(name)
            .rule_arn(format!(
                "arn:aws:xray:us-east-1:123456789012:sampling-rule/{name}"
            ))
            .resource_arn("*")
            .priority(100)
            .fixed_rate(0.05)
            .reservoir_size(2)
            .service_name(service)
            .service_type("*")
            .host("*")
            .http_method("GET")
            .url_path("/api/*")
            .version(1)
            .set_attributes(Some(std::collections::HashMap::new()))
            .build()
            .unwrap();
        SamplingRuleRecord::builder().sampling_rule(rule).build()
    }

    #[test]
    fn an_imported_rule_leaves_out_the_wildcards_and_plans_no_change() {
        let record = cli_rule("checkout", "checkout-api");
        let f = Found {
            record: record.clone(),
            tags: BTreeMap::from([("team".to_string(), "shop".to_string())]),
        };
        let imported = import_one::<SamplingRule>(f, &mut ImportNames::default()).unwrap();
        let yaml = serde_yaml::to_string(&imported.manifest).unwrap();
        assert_eq!(
            yaml,
            "apiVersion: cwo.dev/v1alpha1
kind: SamplingRule
metadata:
  name: checkout
spec:
  region: us-east-1
  deletionPolicy: Retain
  adoption: IfUnowned
  priority: 100
  fixedRate: 0.05
  reservoirSize: 2
  serviceName: checkout-api
  httpMethod: GET
  urlPath: /api/*
  tags:
    team: shop
"
        );
        // Applied as written, the controller's plan finds nothing to write.
        let applied: SamplingRule = serde_yaml::from_str(&yaml).unwrap();
        let o = observed(record.sampling_rule().unwrap());
        let d = desired(&applied.spec, &applied.name_any());
        assert!(plan(&d, &o, &BTreeMap::new(), None).is_empty());
    }

    #[test]
    fn a_rule_named_otherwise_keeps_its_name_and_a_zero_rate_and_reservoir() {
        let mut record = cli_rule("Batch Jobs", "*");
        let mut rule = record.sampling_rule.take().unwrap();
        rule.fixed_rate = 0.0;
        rule.reservoir_size = 0;
        record.sampling_rule = Some(rule);
        let imported =
            import_one::<SamplingRule>(Found::untagged(record), &mut ImportNames::default());
        let spec = &imported.unwrap().manifest["spec"];
        assert_eq!(spec["ruleName"].as_str(), Some("Batch Jobs"));
        assert_eq!(spec["fixedRate"].as_f64(), Some(0.0));
        assert_eq!(spec["reservoirSize"].as_i64(), Some(0));
        assert_eq!(spec["priority"].as_i64(), Some(100));
    }

    #[test]
    fn the_default_rule_is_left_out_with_a_note_and_others_are_not() {
        let default = Found::untagged(cli_rule("Default", "*"));
        let skipped = import_one::<SamplingRule>(default, &mut ImportNames::default()).unwrap_err();
        assert_eq!(skipped.aws_object, "sampling rule \"Default\" in us-east-1");
        assert!(skipped.why.contains("ruleName: Default"), "{}", skipped.why);
        assert_eq!(SamplingRule::not_imported(&cli_rule("checkout", "*")), None);
    }
}
