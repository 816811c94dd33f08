//! Log groups and subscription filters through the real aws-sdk-cloudwatchlogs client.

mod common;

use aws_sdk_cloudwatchlogs::operation::create_log_group::CreateLogGroupError;
use aws_sdk_cloudwatchlogs::operation::describe_subscription_filters::DescribeSubscriptionFiltersError;
use aws_sdk_cloudwatchlogs::operation::put_subscription_filter::PutSubscriptionFilterError;
use aws_sdk_firehose::types::ExtendedS3DestinationConfiguration;
use common::{ACCOUNT, Clients, REGION, error_code, error_message};
use cwo_emulator::EmulatorConfig;

const ROLE: &str = "arn:aws:iam::123456789012:role/logs-to-firehose";
const KINESIS: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/logs";

async fn firehose_stream(clients: &Clients, name: &str) -> String {
    let out = clients
        .firehose
        .create_delivery_stream()
        .delivery_stream_name(name)
        .extended_s3_destination_configuration(
            ExtendedS3DestinationConfiguration::builder()
                .role_arn("arn:aws:iam::123456789012:role/firehose")
                .bucket_arn("arn:aws:s3:::logs-bucket")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    out.delivery_stream_arn().unwrap().to_string()
}

#[tokio::test]
async fn log_groups_are_created_described_and_deleted() {
    let (_emulator, clients) = common::start().await;
    let logs = &clients.logs;
    logs.create_log_group()
        .log_group_name("/app/web")
        .tags("team", "web")
        .send()
        .await
        .unwrap();
    logs.create_log_group()
        .log_group_name("/app/db")
        .send()
        .await
        .unwrap();
    logs.create_log_group()
        .log_group_name("/other")
        .send()
        .await
        .unwrap();
    let err = logs
        .create_log_group()
        .log_group_name("/app/web")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.into_service_error(),
        CreateLogGroupError::ResourceAlreadyExistsException(_)
    ));
    let err = logs
        .create_log_group()
        .log_group_name("bad name")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_invalid_parameter_exception());

    let out = logs
        .describe_log_groups()
        .log_group_name_prefix("/app/")
        .send()
        .await
        .unwrap();
    let names: Vec<_> = out
        .log_groups()
        .iter()
        .filter_map(|g| g.log_group_name())
        .collect();
    assert_eq!(names, ["/app/db", "/app/web"]);
    let group = &out.log_groups()[1];
    assert_eq!(
        group.arn(),
        Some(format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app/web:*").as_str())
    );
    assert_eq!(
        group.log_group_arn(),
        Some(format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app/web").as_str())
    );
    assert!(
        group.creation_time().unwrap() > 1_600_000_000_000,
        "epoch milliseconds"
    );

    let paged = logs.describe_log_groups().limit(2).send().await.unwrap();
    assert_eq!(paged.log_groups().len(), 2);
    let rest = logs
        .describe_log_groups()
        .limit(2)
        .next_token(paged.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.log_groups().len(), 1);
    assert!(rest.next_token().is_none());
    let by_pattern = logs
        .describe_log_groups()
        .log_group_name_pattern("db")
        .send()
        .await
        .unwrap();
    assert_eq!(by_pattern.log_groups().len(), 1);
    let err = logs
        .describe_log_groups()
        .log_group_name_prefix("/a")
        .log_group_name_pattern("b")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");

    logs.delete_log_group()
        .log_group_name("/app/db")
        .send()
        .await
        .unwrap();
    let err = logs
        .delete_log_group()
        .log_group_name("/app/db")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_resource_not_found_exception());
}

#[tokio::test]
async fn subscription_filters_are_limited_per_log_group() {
    let (_emulator, clients) = common::start().await;
    let logs = &clients.logs;
    logs.create_log_group()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    let put = |name: &str| {
        logs.put_subscription_filter()
            .log_group_name("g")
            .filter_name(name)
            .filter_pattern("")
            .destination_arn(KINESIS)
            .role_arn(ROLE)
    };
    put("one").send().await.unwrap();
    put("two").send().await.unwrap();
    put("two").filter_pattern("ERROR").send().await.unwrap();
    let err = put("three").send().await.unwrap_err();
    assert!(matches!(
        err.into_service_error(),
        PutSubscriptionFilterError::LimitExceededException(_)
    ));

    let out = logs
        .describe_subscription_filters()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    let filters = out.subscription_filters();
    assert_eq!(filters.len(), 2);
    assert_eq!(filters[1].filter_name(), Some("two"));
    assert_eq!(
        filters[1].filter_pattern(),
        Some("ERROR"),
        "a put replaces the filter"
    );
    assert_eq!(filters[1].destination_arn(), Some(KINESIS));
    assert_eq!(
        filters[1].distribution().map(|d| d.as_str()),
        Some("ByLogStream")
    );

    logs.delete_subscription_filter()
        .log_group_name("g")
        .filter_name("one")
        .send()
        .await
        .unwrap();
    put("three").send().await.unwrap();
    let err = logs
        .delete_subscription_filter()
        .log_group_name("g")
        .filter_name("one")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_resource_not_found_exception());
}

#[tokio::test]
async fn subscription_filter_limit_is_configurable() {
    let config = EmulatorConfig {
        subscription_filter_limit: 5,
        ..Default::default()
    };
    let (_emulator, clients) = common::start_with(config).await;
    let logs = &clients.logs;
    logs.create_log_group()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    for i in 0..5 {
        logs.put_subscription_filter()
            .log_group_name("g")
            .filter_name(format!("f{i}"))
            .filter_pattern("")
            .destination_arn(KINESIS)
            .role_arn(ROLE)
            .send()
            .await
            .unwrap();
    }
    let err = logs
        .put_subscription_filter()
        .log_group_name("g")
        .filter_name("f5")
        .filter_pattern("")
        .destination_arn(KINESIS)
        .role_arn(ROLE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "LimitExceededException");
}

#[tokio::test]
async fn describe_subscription_filters_matches_by_prefix_and_needs_the_log_group() {
    let (_emulator, clients) = common::start().await;
    let logs = &clients.logs;
    logs.create_log_group()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    for name in ["app", "app-extra"] {
        logs.put_subscription_filter()
            .log_group_name("g")
            .filter_name(name)
            .filter_pattern("")
            .destination_arn(KINESIS)
            .role_arn(ROLE)
            .send()
            .await
            .unwrap();
    }
    let out = logs
        .describe_subscription_filters()
        .log_group_name("g")
        .filter_name_prefix("app")
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.subscription_filters().len(),
        2,
        "the prefix matches both names"
    );
    let out = logs
        .describe_subscription_filters()
        .log_group_name("g")
        .filter_name_prefix("app-")
        .send()
        .await
        .unwrap();
    assert_eq!(out.subscription_filters().len(), 1);
    let err = logs
        .describe_subscription_filters()
        .log_group_name("missing")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.into_service_error(),
        DescribeSubscriptionFiltersError::ResourceNotFoundException(_)
    ));
}

#[tokio::test]
async fn firehose_destinations_must_exist_and_filters_need_a_log_group() {
    let (_emulator, clients) = common::start().await;
    let logs = &clients.logs;
    let put = |group: &str, destination: &str| {
        logs.put_subscription_filter()
            .log_group_name(group)
            .filter_name("to-firehose")
            .filter_pattern("[ip, user, ...]")
            .destination_arn(destination)
            .role_arn(ROLE)
    };
    let missing = format!("arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/missing");
    let err = put("nope", &missing).send().await.unwrap_err();
    assert!(
        err.into_service_error().is_resource_not_found_exception(),
        "the log group comes first"
    );
    logs.create_log_group()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    let err = put("g", &missing).send().await.unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    let arn = firehose_stream(&clients, "logs-delivery").await;
    put("g", &arn).send().await.unwrap();

    let err = logs
        .put_subscription_filter()
        .log_group_name("g")
        .filter_name("regex")
        .filter_pattern("{ $.a = %x% || $.b = %y% || $.c = %z% }")
        .destination_arn(KINESIS)
        .role_arn(ROLE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    assert_eq!(
        error_message(&err),
        "A filter pattern can contain at most 2 regular expressions"
    );
    for (pattern, message) in [
        ("{ $.level = }", "Invalid subscription filter pattern"),
        ("[a, b = 1 && c = 2]", "Invalid subscription filter pattern"),
        (
            "user@example.com",
            "Invalid character(s) in term 'user@example.com'",
        ),
    ] {
        let err = logs
            .put_subscription_filter()
            .log_group_name("g")
            .filter_name("bad-pattern")
            .filter_pattern(pattern)
            .destination_arn(KINESIS)
            .role_arn(ROLE)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&err), "InvalidParameterException", "{pattern}");
        assert_eq!(error_message(&err), message, "{pattern}");
    }
    let err = logs
        .put_subscription_filter()
        .log_group_name("g")
        .filter_name("bad:name")
        .filter_pattern("")
        .destination_arn(KINESIS)
        .role_arn(ROLE)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
}

#[tokio::test]
async fn log_group_tags_and_lookups_follow_the_model_patterns() {
    let (_emulator, clients) = common::start().await;
    let logs = &clients.logs;
    logs.create_log_group()
        .log_group_name("tagged")
        .tags("équipe", "Plateforme Web")
        .tags("cost-center", "a.b_c:d/e=f+g@h")
        .send()
        .await
        .unwrap();
    for (key, value, path) in [
        ("bad*key", "v", "tags.key"),
        ("k", "bad#value", "tags.value"),
    ] {
        let err = logs
            .create_log_group()
            .log_group_name("bad-tags")
            .tags(key, value)
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&err), "InvalidParameterException");
        assert!(
            error_message(&err).contains(&format!(
                "at '{path}' failed to satisfy constraint: Member must satisfy regular \
                 expression pattern"
            )),
            "{err:?}"
        );
    }
    let err = logs
        .describe_log_groups()
        .log_group_name_pattern("has space")
        .send()
        .await
        .unwrap_err();
    assert!(
        error_message(&err).contains("at 'logGroupNamePattern' failed to satisfy constraint"),
        "{err:?}"
    );
    let err = logs
        .describe_log_groups()
        .log_group_identifiers("caf\u{e9}")
        .send()
        .await
        .unwrap_err();
    assert!(
        error_message(&err).contains("at 'logGroupIdentifiers.1.member' failed to satisfy"),
        "{err:?}"
    );
    let err = logs
        .describe_log_groups()
        .include_linked_accounts(true)
        .account_identifiers("12345")
        .send()
        .await
        .unwrap_err();
    assert!(
        error_message(&err).contains("at 'accountIdentifiers.1.member'"),
        "{err:?}"
    );
    let mut many = logs.describe_log_groups().include_linked_accounts(true);
    for i in 0..21 {
        many = many.account_identifiers(format!("{i:012}"));
    }
    let err = many.send().await.unwrap_err();
    assert!(
        error_message(&err).contains("Member must have length less than or equal to 20"),
        "{err:?}"
    );
    let listed = logs
        .describe_log_groups()
        .log_group_name_pattern("agg")
        .include_linked_accounts(true)
        .account_identifiers(ACCOUNT)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.log_groups().len(), 1);
}

#[tokio::test]
async fn subscription_filters_take_known_destinations_and_system_fields() {
    let (_emulator, clients) = common::start().await;
    let logs = &clients.logs;
    logs.create_log_group()
        .log_group_name("app")
        .send()
        .await
        .unwrap();
    let put = |name: &str, destination: &str| {
        logs.put_subscription_filter()
            .log_group_name("app")
            .filter_name(name)
            .filter_pattern("")
            .destination_arn(destination)
            .role_arn(ROLE)
    };
    put("kinesis", KINESIS)
        .emit_system_fields("@aws.account")
        .emit_system_fields("@aws.region")
        .send()
        .await
        .unwrap();
    put(
        "lambda",
        "arn:aws:lambda:us-east-1:123456789012:function:ship-logs",
    )
    .send()
    .await
    .unwrap();
    let err = put("sns", "arn:aws:sns:us-east-1:123456789012:topic")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    assert!(
        error_message(&err).starts_with(
            "Invalid destinationArn: arn:aws:sns:us-east-1:123456789012:topic. A destination is"
        ),
        "{err:?}"
    );
    let err = put("kinesis", KINESIS)
        .emit_system_fields("@aws.logGroup")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    assert_eq!(
        error_message(&err),
        "Invalid emitSystemFields value @aws.logGroup: valid values are @aws.account, @aws.region"
    );
}
