//! X-Ray sampling rules through the real aws-sdk-xray client (restJson 1).

mod common;

use aws_sdk_xray::Client;
use aws_sdk_xray::operation::create_sampling_rule::CreateSamplingRuleError;
use aws_sdk_xray::operation::tag_resource::TagResourceError;
use aws_sdk_xray::types::{SamplingRule, SamplingRuleRecord, SamplingRuleUpdate, Tag};
use common::{ACCOUNT, REGION, error_code, error_message};

fn rule(name: &str, priority: i32) -> SamplingRule {
    SamplingRule::builder()
        .rule_name(name)
        .resource_arn("*")
        .priority(priority)
        .fixed_rate(0.1)
        .reservoir_size(5)
        .service_name("checkout")
        .service_type("*")
        .host("*")
        .http_method("GET")
        .url_path("/api/*")
        .version(1)
        .attributes("team", "payments")
        .build()
        .unwrap()
}

async fn all_rules(xray: &Client) -> Vec<SamplingRuleRecord> {
    let mut records = Vec::new();
    let mut pages = xray.get_sampling_rules().into_paginator().send();
    while let Some(page) = pages.next().await {
        records.extend(page.unwrap().sampling_rule_records().iter().cloned());
    }
    records
}

fn find<'a>(records: &'a [SamplingRuleRecord], name: &str) -> &'a SamplingRule {
    records
        .iter()
        .filter_map(|r| r.sampling_rule())
        .find(|r| r.rule_name() == Some(name))
        .unwrap_or_else(|| panic!("rule {name} listed"))
}

#[tokio::test]
async fn every_account_starts_with_the_default_rule() {
    let (_emulator, clients) = common::start().await;
    let records = all_rules(&clients.xray).await;
    assert_eq!(records.len(), 1);
    let default = find(&records, "Default");
    assert_eq!(default.priority(), 10000);
    assert_eq!(default.fixed_rate(), 0.05);
    assert_eq!(default.reservoir_size(), 1);
    assert_eq!(
        default.rule_arn(),
        Some(format!("arn:aws:xray:{REGION}:{ACCOUNT}:sampling-rule/Default").as_str())
    );
}

#[tokio::test]
async fn sampling_rules_are_created_listed_updated_and_deleted() {
    let (_emulator, clients) = common::start().await;
    let xray = &clients.xray;
    let created = xray
        .create_sampling_rule()
        .sampling_rule(rule("checkout", 100))
        .tags(Tag::builder().key("owner").value("me").build().unwrap())
        .send()
        .await
        .unwrap();
    let record = created.sampling_rule_record().unwrap();
    assert!(record.created_at().is_some() && record.modified_at().is_some());
    let arn = record
        .sampling_rule()
        .unwrap()
        .rule_arn()
        .unwrap()
        .to_string();
    assert_eq!(
        arn,
        format!("arn:aws:xray:{REGION}:{ACCOUNT}:sampling-rule/checkout")
    );

    let err = xray
        .create_sampling_rule()
        .sampling_rule(rule("checkout", 100))
        .send()
        .await
        .unwrap_err();
    assert!(
        err.into_service_error().is_invalid_request_exception(),
        "create is not an upsert"
    );

    let updated = xray
        .update_sampling_rule()
        .sampling_rule_update(
            SamplingRuleUpdate::builder()
                .rule_arn(&arn)
                .fixed_rate(0.5)
                .resource_arn("arn:aws:ecs:*")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let updated = updated
        .sampling_rule_record()
        .unwrap()
        .sampling_rule()
        .unwrap();
    assert_eq!(updated.fixed_rate(), 0.5);
    assert_eq!(updated.resource_arn(), "arn:aws:ecs:*");
    assert_eq!(updated.priority(), 100, "members left out keep their value");
    assert_eq!(
        updated
            .attributes()
            .unwrap()
            .get("team")
            .map(String::as_str),
        Some("payments")
    );

    let err = xray
        .update_sampling_rule()
        .sampling_rule_update(
            SamplingRuleUpdate::builder()
                .rule_name("checkout")
                .rule_arn(&arn)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_code(&err),
        "InvalidRequestException",
        "RuleName and RuleARN exclude each other"
    );
    let err = xray
        .update_sampling_rule()
        .sampling_rule_update(
            SamplingRuleUpdate::builder()
                .rule_name("missing")
                .fixed_rate(0.1)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidRequestException");

    let deleted = xray
        .delete_sampling_rule()
        .rule_name("checkout")
        .send()
        .await
        .unwrap();
    assert_eq!(
        deleted
            .sampling_rule_record()
            .unwrap()
            .sampling_rule()
            .unwrap()
            .rule_name(),
        Some("checkout")
    );
    assert_eq!(all_rules(xray).await.len(), 1);
}

#[tokio::test]
async fn the_default_rule_cannot_be_deleted_and_changes_only_rate_and_reservoir() {
    let (_emulator, clients) = common::start().await;
    let xray = &clients.xray;
    let err = xray
        .delete_sampling_rule()
        .rule_name("Default")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidRequestException");
    xray.update_sampling_rule()
        .sampling_rule_update(
            SamplingRuleUpdate::builder()
                .rule_name("Default")
                .fixed_rate(0.2)
                .reservoir_size(3)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let default = all_rules(xray).await;
    let default = find(&default, "Default");
    assert_eq!((default.fixed_rate(), default.reservoir_size()), (0.2, 3));
    let err = xray
        .update_sampling_rule()
        .sampling_rule_update(
            SamplingRuleUpdate::builder()
                .rule_name("Default")
                .priority(5)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        error_message(&err).contains("Only FixedRate and ReservoirSize"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_region_holds_25_custom_rules_listed_in_pages() {
    let (_emulator, clients) = common::start().await;
    let xray = &clients.xray;
    for i in 0..25 {
        xray.create_sampling_rule()
            .sampling_rule(rule(&format!("r{i:02}"), 100 + i))
            .send()
            .await
            .unwrap();
    }
    let err = xray
        .create_sampling_rule()
        .sampling_rule(rule("r25", 200))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.into_service_error(),
        CreateSamplingRuleError::RuleLimitExceededException(_)
    ));
    let first = xray.get_sampling_rules().send().await.unwrap();
    assert!(
        first.next_token().is_some(),
        "26 rules take more than one page"
    );
    let records = all_rules(xray).await;
    assert_eq!(records.len(), 26);
    let priorities: Vec<i32> = records
        .iter()
        .filter_map(|r| r.sampling_rule())
        .map(|r| r.priority())
        .collect();
    assert!(
        priorities.windows(2).all(|w| w[0] <= w[1]),
        "ordered by priority"
    );
}

#[tokio::test]
async fn sampling_rule_values_are_validated() {
    let (_emulator, clients) = common::start().await;
    let xray = &clients.xray;
    let invalid = [
        SamplingRule::builder()
            .rule_name("p")
            .resource_arn("*")
            .priority(0)
            .fixed_rate(0.1)
            .reservoir_size(1)
            .service_name("*")
            .service_type("*")
            .host("*")
            .http_method("*")
            .url_path("*")
            .version(1)
            .build()
            .unwrap(),
        SamplingRule::builder()
            .rule_name("r")
            .resource_arn("*")
            .priority(1)
            .fixed_rate(1.5)
            .reservoir_size(1)
            .service_name("*")
            .service_type("*")
            .host("*")
            .http_method("*")
            .url_path("*")
            .version(1)
            .build()
            .unwrap(),
        SamplingRule::builder()
            .rule_name("v")
            .resource_arn("*")
            .priority(1)
            .fixed_rate(0.1)
            .reservoir_size(1)
            .service_name("*")
            .service_type("*")
            .host("*")
            .http_method("*")
            .url_path("*")
            .version(2)
            .build()
            .unwrap(),
        SamplingRule::builder()
            .rule_name("a-name-longer-than-thirty-two-chars")
            .resource_arn("*")
            .priority(1)
            .fixed_rate(0.1)
            .reservoir_size(1)
            .service_name("*")
            .service_type("*")
            .host("*")
            .http_method("*")
            .url_path("*")
            .version(1)
            .build()
            .unwrap(),
        SamplingRule::builder()
            .rule_name("m")
            .resource_arn("*")
            .priority(1)
            .fixed_rate(0.1)
            .reservoir_size(1)
            .service_name("*")
            .service_type("*")
            .host("*")
            .http_method("METHODTOOLONG")
            .url_path("*")
            .version(1)
            .build()
            .unwrap(),
    ];
    for rule in invalid {
        let name = rule.rule_name().unwrap().to_string();
        let err = xray
            .create_sampling_rule()
            .sampling_rule(rule)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&err), "InvalidRequestException", "rule {name}");
    }
    let mut attributes = rule("attrs", 1).to_owned();
    for i in 0..6 {
        attributes
            .attributes
            .get_or_insert_with(Default::default)
            .insert(format!("k{i}"), "v".into());
    }
    let err = xray
        .create_sampling_rule()
        .sampling_rule(attributes)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_code(&err),
        "InvalidRequestException",
        "at most 5 attributes"
    );
}

#[tokio::test]
async fn sampling_rule_tags_are_managed_by_arn() {
    let (_emulator, clients) = common::start().await;
    let xray = &clients.xray;
    xray.create_sampling_rule()
        .sampling_rule(rule("tagged", 10))
        .send()
        .await
        .unwrap();
    let arn = format!("arn:aws:xray:{REGION}:{ACCOUNT}:sampling-rule/tagged");
    xray.tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("a").value("1").build().unwrap())
        .send()
        .await
        .unwrap();
    xray.tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("b").value("2").build().unwrap())
        .send()
        .await
        .unwrap();
    xray.untag_resource()
        .resource_arn(&arn)
        .tag_keys("a")
        .send()
        .await
        .unwrap();
    let tags = xray
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = tags.tags().iter().map(|t| t.key()).collect();
    assert_eq!(keys, ["b"]);

    let missing = format!("arn:aws:xray:{REGION}:{ACCOUNT}:sampling-rule/missing");
    let err = xray
        .list_tags_for_resource()
        .resource_arn(&missing)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_resource_not_found_exception());
    let mut many = xray.tag_resource().resource_arn(&arn);
    for i in 0..50 {
        many = many.tags(
            Tag::builder()
                .key(format!("k{i}"))
                .value("v")
                .build()
                .unwrap(),
        );
    }
    let err = many.send().await.unwrap_err();
    assert!(matches!(
        err.into_service_error(),
        TagResourceError::TooManyTagsException(_)
    ));
}

#[tokio::test]
async fn sampling_rule_tags_take_x_rays_character_set() {
    let (_emulator, clients) = common::start().await;
    let xray = &clients.xray;
    let tag = |key: &str, value: &str| Tag::builder().key(key).value(value).build().unwrap();
    xray.create_sampling_rule()
        .sampling_rule(rule("tagged", 10))
        .tags(tag("équipe", "Plateforme Web"))
        .tags(tag("cwo.dev/owner", "e2e/ns/SamplingRule/tagged"))
        .tags(tag("a+b=c-d_e:f@g", ""))
        .send()
        .await
        .unwrap();
    let err = xray
        .create_sampling_rule()
        .sampling_rule(rule("bad-tag", 11))
        .tags(tag("team", "web,api"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidRequestException");
    assert!(
        error_message(&err).contains("Value 'web,api' at 'tags.1.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern"),
        "{err:?}"
    );
    let arn = format!("arn:aws:xray:{REGION}:{ACCOUNT}:sampling-rule/tagged");
    let err = xray
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag("owner#1", "x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidRequestException");
    assert!(
        error_message(&err).contains("at 'tags.1.member.key'"),
        "{err:?}"
    );
    let err = xray
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("owner#1")
        .send()
        .await
        .unwrap_err();
    assert!(
        error_message(&err).contains("at 'tagKeys.1.member'"),
        "{err:?}"
    );
}
