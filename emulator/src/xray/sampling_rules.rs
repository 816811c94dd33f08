//! CreateSamplingRule, GetSamplingRules, UpdateSamplingRule, DeleteSamplingRule.
//!
//! AWS semantics modelled: 25 custom rules per region besides `Default`
//! (`RuleLimitExceededException`); names are unique and, with the version, immutable (the
//! update shape has neither, and Version must be 1); Update and Delete name the rule by
//! RuleName or RuleARN, not both; `Default` cannot be deleted and only its FixedRate and
//! ReservoirSize change; an update changes only the members it carries. Create is not an
//! upsert: an existing name is refused. GetSamplingRules pages by (priority, name).

use serde::{Deserialize, Serialize};

use super::state::{
    DEFAULT_RULE_NAME, SamplingRateBoost, SamplingRule, SamplingRuleRecord, StoredRule,
};
use super::{check_tag_characters, invalid_request};
use crate::arn::{self, Arn};
use crate::call::Call;
use crate::error::{AwsError, AwsResult};
use crate::paging;
use crate::tags::{self, MAX_TAGS_PER_RESOURCE, Tag};
use crate::validation::Violations;

const MAX_CUSTOM_RULES: usize = 25;
/// Rules per GetSamplingRules page. AWS does not document its page size; a small page makes
/// clients exercise NextToken.
pub const RULES_PAGE_SIZE: usize = 10;

#[derive(Debug, Default, Deserialize)]
pub struct CreateSamplingRuleInput {
    #[serde(rename = "SamplingRule")]
    pub sampling_rule: Option<SamplingRule>,
    #[serde(rename = "Tags")]
    pub tags: Option<Vec<Tag>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct UpdateSamplingRuleInput {
    #[serde(rename = "SamplingRuleUpdate")]
    pub sampling_rule_update: Option<SamplingRule>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RuleReference {
    #[serde(rename = "RuleName")]
    pub rule_name: Option<String>,
    #[serde(rename = "RuleARN")]
    pub rule_arn: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct GetSamplingRulesInput {
    #[serde(rename = "NextToken")]
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RecordOutput {
    #[serde(rename = "SamplingRuleRecord")]
    pub sampling_rule_record: SamplingRuleRecord,
}

#[derive(Debug, Serialize)]
pub struct GetSamplingRulesOutput {
    #[serde(rename = "SamplingRuleRecords")]
    pub sampling_rule_records: Vec<SamplingRuleRecord>,
    #[serde(rename = "NextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// The value constraints shared by the create and update shapes.
fn check_values(v: &mut Violations, at: &str, rule: &SamplingRule) {
    let p = |member: &str| format!("{at}.{member}");
    v.length(&p("ruleName"), rule.rule_name.as_deref(), 1, Some(32))
        .length(
            &p("resourceARN"),
            rule.resource_arn.as_deref(),
            0,
            Some(500),
        )
        .range(&p("priority"), rule.priority, Some(1), Some(9999))
        .range_f64(&p("fixedRate"), rule.fixed_rate, 0.0, 1.0)
        .range(
            &p("reservoirSize"),
            rule.reservoir_size,
            Some(0),
            Some(i64::from(i32::MAX)),
        )
        .length(&p("serviceName"), rule.service_name.as_deref(), 0, Some(64))
        .length(&p("serviceType"), rule.service_type.as_deref(), 0, Some(64))
        .length(&p("host"), rule.host.as_deref(), 0, Some(64))
        .length(&p("hTTPMethod"), rule.http_method.as_deref(), 0, Some(10))
        .length(&p("uRLPath"), rule.url_path.as_deref(), 0, Some(128))
        .range(&p("version"), rule.version, Some(1), None);
    if let Some(attributes) = &rule.attributes {
        let entries: Vec<_> = attributes.iter().collect();
        v.count(&p("attributes"), Some(&entries[..]), 0, Some(5));
        for (key, value) in attributes {
            v.length(&p("attributes.key"), Some(key), 1, Some(32))
                .length(&p("attributes.value"), Some(value), 1, Some(32));
        }
    }
    if let Some(boost) = &rule.sampling_rate_boost {
        let b = p("samplingRateBoost");
        v.required(&format!("{b}.maxRate"), boost.max_rate.as_ref())
            .range_f64(&format!("{b}.maxRate"), boost.max_rate, 0.0, 1.0)
            .required(
                &format!("{b}.cooldownWindowMinutes"),
                boost.cooldown_window_minutes.as_ref(),
            )
            .range(
                &format!("{b}.cooldownWindowMinutes"),
                boost.cooldown_window_minutes,
                Some(0),
                None,
            );
    }
}

fn record(stored: &StoredRule) -> SamplingRuleRecord {
    stored.record.clone()
}

pub fn create(call: &mut Call<'_>, input: CreateSamplingRuleInput) -> AwsResult<RecordOutput> {
    let mut v = Violations::new();
    v.required("samplingRule", input.sampling_rule.as_ref());
    if let Some(rule) = &input.sampling_rule {
        let at = "samplingRule";
        v.required("samplingRule.ruleName", rule.rule_name.as_ref())
            .required("samplingRule.resourceARN", rule.resource_arn.as_ref())
            .required("samplingRule.priority", rule.priority.as_ref())
            .required("samplingRule.fixedRate", rule.fixed_rate.as_ref())
            .required("samplingRule.reservoirSize", rule.reservoir_size.as_ref())
            .required("samplingRule.serviceName", rule.service_name.as_ref())
            .required("samplingRule.serviceType", rule.service_type.as_ref())
            .required("samplingRule.host", rule.host.as_ref())
            .required("samplingRule.hTTPMethod", rule.http_method.as_ref())
            .required("samplingRule.uRLPath", rule.url_path.as_ref())
            .required("samplingRule.version", rule.version.as_ref());
        check_values(&mut v, at, rule);
    }
    v.count("tags", input.tags.as_deref(), 0, Some(200));
    tags::check_tags(&mut v, "tags", input.tags.as_deref());
    check_tag_characters(&mut v, "tags", input.tags.as_deref());
    v.finish(invalid_request)?;

    let mut rule = input.sampling_rule.expect("checked above");
    let name = rule.rule_name.clone().expect("checked above");
    if rule.version != Some(1) {
        return Err(invalid_request("Version must be 1"));
    }
    let tag_list = input.tags.unwrap_or_default();
    if tag_list.len() > MAX_TAGS_PER_RESOURCE {
        return Err(invalid_request(format!(
            "A resource can have at most {MAX_TAGS_PER_RESOURCE} tags"
        )));
    }
    if let Some(key) = tags::reserved_key(&tag_list) {
        return Err(invalid_request(format!(
            "Invalid tag key {key}: the aws: prefix is reserved"
        )));
    }
    let rules = &mut call.state.xray.rules;
    if rules.contains_key(&name) {
        return Err(invalid_request(format!(
            "A sampling rule with the name {name} already exists"
        )));
    }
    if rules.len() - usize::from(rules.contains_key(DEFAULT_RULE_NAME)) >= MAX_CUSTOM_RULES {
        return Err(AwsError::bad_request(
            "RuleLimitExceededException",
            format!("You have reached the maximum number of sampling rules ({MAX_CUSTOM_RULES})"),
        ));
    }
    rule.rule_arn = Some(arn::sampling_rule(call.scope, &name));
    rule.attributes.get_or_insert_with(Default::default);
    let stored = StoredRule {
        record: SamplingRuleRecord {
            sampling_rule: rule,
            created_at: call.now,
            modified_at: call.now,
        },
        tags: tags::to_map(Some(&tag_list)),
    };
    let output = RecordOutput {
        sampling_rule_record: record(&stored),
    };
    rules.insert(name, stored);
    Ok(output)
}

/// The rule name a RuleName / RuleARN pair refers to; exactly one of the two.
fn referenced_name(
    call: &Call<'_>,
    name: Option<&String>,
    arn: Option<&String>,
) -> AwsResult<String> {
    match (name, arn) {
        (Some(_), Some(_)) | (None, None) => Err(invalid_request(
            "Specify either RuleName or RuleARN, but not both",
        )),
        (Some(name), None) => Ok(name.clone()),
        (None, Some(rule_arn)) => Arn::parse(rule_arn)
            .filter(|a| a.service == "xray" && a.is_in(call.scope))
            .and_then(|a| {
                a.resource
                    .strip_prefix("sampling-rule/")
                    .map(str::to_string)
            })
            .ok_or_else(|| invalid_request(format!("Invalid RuleARN: {rule_arn}"))),
    }
}

fn rule_not_found(name: &str) -> AwsError {
    invalid_request(format!("Sampling rule {name} does not exist"))
}

pub fn get(call: &mut Call<'_>, input: GetSamplingRulesInput) -> AwsResult<GetSamplingRulesOutput> {
    let mut ordered: Vec<(String, &StoredRule)> = call
        .state
        .xray
        .rules
        .values()
        .map(|r| (sort_key(&r.record.sampling_rule), r))
        .collect();
    ordered.sort_by(|a, b| a.0.cmp(&b.0));
    let after = match &input.next_token {
        Some(token) => {
            Some(paging::decode(token).ok_or_else(|| invalid_request("Invalid NextToken"))?)
        }
        None => None,
    };
    let mut page: Vec<&(String, &StoredRule)> = ordered
        .iter()
        .filter(|(key, _)| after.as_ref().is_none_or(|a| key > a))
        .take(RULES_PAGE_SIZE + 1)
        .collect();
    let next_token = (page.len() > RULES_PAGE_SIZE).then(|| {
        page.truncate(RULES_PAGE_SIZE);
        paging::encode(&page.last().expect("a full page").0)
    });
    Ok(GetSamplingRulesOutput {
        sampling_rule_records: page.into_iter().map(|(_, r)| record(r)).collect(),
        next_token,
    })
}

fn sort_key(rule: &SamplingRule) -> String {
    format!(
        "{:05}/{}",
        rule.priority.unwrap_or(0),
        rule.rule_name.as_deref().unwrap_or("")
    )
}

pub fn update(call: &mut Call<'_>, input: UpdateSamplingRuleInput) -> AwsResult<RecordOutput> {
    let mut v = Violations::new();
    v.required("samplingRuleUpdate", input.sampling_rule_update.as_ref());
    if let Some(update) = &input.sampling_rule_update {
        check_values(&mut v, "samplingRuleUpdate", update);
    }
    v.finish(invalid_request)?;
    let update = input.sampling_rule_update.expect("checked above");
    let name = referenced_name(call, update.rule_name.as_ref(), update.rule_arn.as_ref())?;
    let now = call.now;
    let stored = call
        .state
        .xray
        .rules
        .get_mut(&name)
        .ok_or_else(|| rule_not_found(&name))?;
    let rule = &mut stored.record.sampling_rule;
    if name == DEFAULT_RULE_NAME {
        let changes_other = changed(&update.resource_arn, &rule.resource_arn)
            || changed(&update.priority, &rule.priority)
            || changed(&update.service_name, &rule.service_name)
            || changed(&update.service_type, &rule.service_type)
            || changed(&update.host, &rule.host)
            || changed(&update.http_method, &rule.http_method)
            || changed(&update.url_path, &rule.url_path)
            || changed(&update.attributes, &rule.attributes)
            || changed(&update.sampling_rate_boost, &rule.sampling_rate_boost);
        if changes_other {
            return Err(invalid_request(
                "Only FixedRate and ReservoirSize can be updated for the Default sampling rule",
            ));
        }
    }
    merge(&mut rule.resource_arn, update.resource_arn);
    merge(&mut rule.priority, update.priority);
    merge(&mut rule.fixed_rate, update.fixed_rate);
    merge(&mut rule.reservoir_size, update.reservoir_size);
    merge(&mut rule.service_name, update.service_name);
    merge(&mut rule.service_type, update.service_type);
    merge(&mut rule.host, update.host);
    merge(&mut rule.http_method, update.http_method);
    merge(&mut rule.url_path, update.url_path);
    merge(&mut rule.attributes, update.attributes);
    merge::<SamplingRateBoost>(&mut rule.sampling_rate_boost, update.sampling_rate_boost);
    stored.record.modified_at = now;
    Ok(RecordOutput {
        sampling_rule_record: record(stored),
    })
}

fn changed<T: PartialEq>(update: &Option<T>, current: &Option<T>) -> bool {
    update.is_some() && update != current
}

fn merge<T>(current: &mut Option<T>, update: Option<T>) {
    if update.is_some() {
        *current = update;
    }
}

pub fn delete(call: &mut Call<'_>, input: RuleReference) -> AwsResult<RecordOutput> {
    let name = referenced_name(call, input.rule_name.as_ref(), input.rule_arn.as_ref())?;
    if name == DEFAULT_RULE_NAME {
        return Err(invalid_request(
            "The Default sampling rule cannot be deleted",
        ));
    }
    let stored = call
        .state
        .xray
        .rules
        .remove(&name)
        .ok_or_else(|| rule_not_found(&name))?;
    Ok(RecordOutput {
        sampling_rule_record: stored.record,
    })
}
