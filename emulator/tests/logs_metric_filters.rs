//! Metric filters (PutMetricFilter, DescribeMetricFilters, DeleteMetricFilter,
//! TestMetricFilter) through the real aws-sdk-cloudwatchlogs client.

mod common;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::operation::put_metric_filter::builders::PutMetricFilterFluentBuilder;
use aws_sdk_cloudwatchlogs::types::{MetricTransformation, StandardUnit};
use common::{error_code, error_message};
use cwo_emulator::EmulatorConfig;

const KINESIS: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/logs";
const ROLE: &str = "arn:aws:iam::123456789012:role/logs";

fn transformation(
    value: &str,
) -> aws_sdk_cloudwatchlogs::types::builders::MetricTransformationBuilder {
    MetricTransformation::builder()
        .metric_name("Errors")
        .metric_namespace("App")
        .metric_value(value)
}

fn put(logs: &Client, group: &str, name: &str, pattern: &str) -> PutMetricFilterFluentBuilder {
    logs.put_metric_filter()
        .log_group_name(group)
        .filter_name(name)
        .filter_pattern(pattern)
        .metric_transformations(transformation("1").build().unwrap())
}

async fn log_group(logs: &Client, name: &str) {
    logs.create_log_group()
        .log_group_name(name)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn metric_filters_are_created_replaced_described_and_deleted() {
    let (emulator, clients) = common::start().await;
    let logs = &clients.logs;
    log_group(logs, "/aws/lambda/checkout").await;
    logs.put_metric_filter()
        .log_group_name("/aws/lambda/checkout")
        .filter_name("errors")
        .filter_pattern("{ $.level = \"ERROR\" }")
        .metric_transformations(
            transformation("$.count")
                .unit(StandardUnit::Count)
                .dimensions("Service", "$.service")
                .build()
                .unwrap(),
        )
        .apply_on_transformed_logs(true)
        .field_selection_criteria("@aws.region = \"us-east-1\"")
        .emit_system_field_dimensions("@aws.account")
        .send()
        .await
        .unwrap();
    let out = logs
        .describe_metric_filters()
        .log_group_name("/aws/lambda/checkout")
        .send()
        .await
        .unwrap();
    let filter = &out.metric_filters()[0];
    assert_eq!(filter.filter_name(), Some("errors"));
    assert_eq!(filter.log_group_name(), Some("/aws/lambda/checkout"));
    assert_eq!(filter.filter_pattern(), Some("{ $.level = \"ERROR\" }"));
    assert!(filter.apply_on_transformed_logs());
    assert_eq!(
        filter.field_selection_criteria(),
        Some("@aws.region = \"us-east-1\"")
    );
    assert_eq!(filter.emit_system_field_dimensions(), ["@aws.account"]);
    let created = filter.creation_time().unwrap();
    assert!(created > 1_600_000_000_000, "epoch milliseconds");
    let t = &filter.metric_transformations()[0];
    assert_eq!(
        (t.metric_name(), t.metric_namespace(), t.metric_value()),
        ("Errors", "App", "$.count")
    );
    assert_eq!(t.unit(), Some(&StandardUnit::Count));
    assert_eq!(t.default_value(), None);
    assert_eq!(
        t.dimensions().unwrap().get("Service").map(String::as_str),
        Some("$.service")
    );
    let groups = logs.describe_log_groups().send().await.unwrap();
    assert_eq!(groups.log_groups()[0].metric_filter_count(), Some(1));

    // A put replaces the whole filter and keeps its creation time.
    logs.put_metric_filter()
        .log_group_name("/aws/lambda/checkout")
        .filter_name("errors")
        .filter_pattern("ERROR")
        .metric_transformations(transformation("1").default_value(0.0).build().unwrap())
        .send()
        .await
        .unwrap();
    let out = logs.describe_metric_filters().send().await.unwrap();
    let filter = &out.metric_filters()[0];
    assert_eq!(filter.filter_pattern(), Some("ERROR"));
    assert_eq!(filter.creation_time(), Some(created));
    assert!(!filter.apply_on_transformed_logs());
    assert_eq!(filter.field_selection_criteria(), None);
    let t = &filter.metric_transformations()[0];
    assert_eq!(t.default_value(), Some(0.0));
    assert_eq!(t.unit(), None, "an omitted unit stays omitted");
    assert!(t.dimensions().is_none_or(|d| d.is_empty()));

    logs.delete_metric_filter()
        .log_group_name("/aws/lambda/checkout")
        .filter_name("errors")
        .send()
        .await
        .unwrap();
    let err = logs
        .delete_metric_filter()
        .log_group_name("/aws/lambda/checkout")
        .filter_name("errors")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_resource_not_found_exception());
    assert!(
        logs.describe_metric_filters()
            .send()
            .await
            .unwrap()
            .metric_filters()
            .is_empty()
    );

    let calls = emulator.calls();
    for (operation, ok, errors) in [
        ("PutMetricFilter", 2, 0),
        ("DescribeMetricFilters", 3, 0),
        ("DeleteMetricFilter", 1, 1),
    ] {
        let counted = calls.operation("logs", operation);
        assert_eq!(
            (counted.ok, counted.total - counted.ok),
            (ok, errors),
            "{operation}"
        );
    }
    assert_eq!(
        calls
            .operation("logs", "DeleteMetricFilter")
            .errors
            .get("ResourceNotFoundException"),
        Some(&1)
    );
}

#[tokio::test]
async fn put_metric_filter_refuses_what_aws_refuses() {
    let (_emulator, clients) = common::start().await;
    let logs = &clients.logs;
    let err = put(logs, "missing", "f", "ERROR").send().await.unwrap_err();
    assert!(err.into_service_error().is_resource_not_found_exception());
    log_group(logs, "g").await;

    let refused = |builder: PutMetricFilterFluentBuilder, expected: &'static str| async move {
        let err = builder.send().await.unwrap_err();
        assert_eq!(error_code(&err), "InvalidParameterException");
        let message = error_message(&err);
        assert!(
            message.contains(expected),
            "{message:?} should contain {expected:?}"
        );
    };
    refused(
        put(logs, "g", "f", "{ $.level = "),
        "Invalid metric filter pattern",
    )
    .await;
    refused(
        put(logs, "g", "f", "ERROR:"),
        "Invalid character(s) in term 'ERROR:'",
    )
    .await;
    refused(
        put(logs, "g", "f", "[a=%x%, b=%y%, c=%z%]"),
        "at most 2 regular expressions",
    )
    .await;
    refused(
        put(logs, "g", "f*", "ERROR"),
        "satisfy regular expression pattern: [^:*]*",
    )
    .await;
    refused(
        put(logs, "g", "f", &"x".repeat(1025)),
        "Member must have length less than or equal to 1024",
    )
    .await;
    refused(
        put(logs, "g", "f", "ERROR").metric_transformations(transformation("2").build().unwrap()),
        "Value [2 elements] at 'metricTransformations' failed to satisfy constraint",
    )
    .await;
    refused(
        logs.put_metric_filter()
            .log_group_name("g")
            .filter_name("f")
            .filter_pattern("ERROR")
            .metric_transformations(transformation("1").unit(StandardUnit::from("Widgets")).build().unwrap()),
        "at 'metricTransformations.1.member.unit' failed to satisfy constraint: Member must satisfy enum value set",
    )
    .await;
    refused(
        logs.put_metric_filter()
            .log_group_name("g")
            .filter_name("f")
            .filter_pattern("ERROR")
            .metric_transformations(
                MetricTransformation::builder()
                    .metric_name("a:b")
                    .metric_namespace("App")
                    .metric_value("1")
                    .build()
                    .unwrap(),
            ),
        "'metricTransformations.1.member.metricName' failed to satisfy constraint",
    )
    .await;
    let with = |pattern: &str, t: MetricTransformation| {
        logs.put_metric_filter()
            .log_group_name("g")
            .filter_name("f")
            .filter_pattern(pattern)
            .metric_transformations(t)
    };
    refused(
        with(
            "ERROR",
            transformation("1")
                .dimensions("Type", "$.type")
                .build()
                .unwrap(),
        ),
        "The specified filter pattern does not support dimensions",
    )
    .await;
    refused(
        with(
            "{ $.type = * }",
            transformation("1")
                .dimensions("Type", "$.type")
                .default_value(0.0)
                .build()
                .unwrap(),
        ),
        "Invalid metric transformation: dimensions and default value are mutually exclusive properties",
    )
    .await;
    refused(
        with(
            "{ $.a = * }",
            transformation("1")
                .dimensions("A", "$.a")
                .dimensions("B", "$.b")
                .dimensions("C", "$.c")
                .dimensions("D", "$.d")
                .build()
                .unwrap(),
        ),
        "at most 3 dimensions",
    )
    .await;
    refused(
        with("[length]", transformation("length").build().unwrap()),
        "metricValue length is neither a number nor a field",
    )
    .await;
    refused(
        with("[ip, bytes]", transformation("$size").build().unwrap()),
        "metricValue $size",
    )
    .await;
    refused(
        put(logs, "g", "f", "ERROR").field_selection_criteria("@aws.region = us-east-1"),
        "Invalid fieldSelectionCriteria",
    )
    .await;
    refused(
        put(logs, "g", "f", "ERROR").emit_system_field_dimensions("@aws.zone"),
        "Invalid emitSystemFieldDimensions value @aws.zone",
    )
    .await;
    refused(
        with(
            "{ $.a = * }",
            transformation("1")
                .dimensions("A", "$.a")
                .dimensions("B", "$.b")
                .dimensions("C", "$.c")
                .build()
                .unwrap(),
        )
        .emit_system_field_dimensions("@aws.region"),
        "at most 3 dimensions",
    )
    .await;

    // The extremes that are valid.
    with(
        "[ip, user, ..., status_code = 5*, bytes]",
        transformation("$bytes")
            .dimensions("Status", "$status_code")
            .dimensions("User", "$user")
            .dimensions("Client", "$ip")
            .build()
            .unwrap(),
    )
    .send()
    .await
    .unwrap();
    put(logs, "g", &"n".repeat(512), &"x".repeat(1024))
        .send()
        .await
        .unwrap();
    put(logs, "g", "empty-pattern", "").send().await.unwrap();
    assert!(
        logs.describe_metric_filters()
            .send()
            .await
            .unwrap()
            .metric_filters()
            .len()
            == 3
    );
}

#[tokio::test]
async fn a_log_group_holds_100_metric_filters() {
    let (_emulator, clients) = common::start().await;
    let logs = &clients.logs;
    log_group(logs, "g").await;
    for i in 0..100 {
        put(logs, "g", &format!("f{i:03}"), "ERROR")
            .send()
            .await
            .unwrap();
    }
    let err = put(logs, "g", "f100", "ERROR").send().await.unwrap_err();
    assert_eq!(error_code(&err), "LimitExceededException");
    put(logs, "g", "f007", "WARN")
        .send()
        .await
        .expect("a replace at the limit");
    log_group(logs, "other").await;
    put(logs, "other", "f100", "ERROR")
        .send()
        .await
        .expect("the limit is per group");
}

#[tokio::test]
async fn a_log_group_holds_5_patterns_with_regexes_across_filter_kinds() {
    // Room for a third subscription filter, so only the regex quota can refuse it.
    let config = EmulatorConfig {
        subscription_filter_limit: 3,
        ..Default::default()
    };
    let (_emulator, clients) = common::start_with(config).await;
    let logs = &clients.logs;
    log_group(logs, "g").await;
    for i in 0..2 {
        logs.put_subscription_filter()
            .log_group_name("g")
            .filter_name(format!("s{i}"))
            .filter_pattern(format!("%sub{i}%"))
            .destination_arn(KINESIS)
            .role_arn(ROLE)
            .send()
            .await
            .unwrap();
    }
    for i in 0..3 {
        put(logs, "g", &format!("m{i}"), &format!("{{ $.a = %x{i}% }}"))
            .send()
            .await
            .unwrap();
    }
    let err = put(logs, "g", "m3", "%more%").send().await.unwrap_err();
    assert_eq!(error_code(&err), "LimitExceededException");
    put(logs, "g", "m3", "no regex")
        .send()
        .await
        .expect("plain patterns still fit");
    put(logs, "g", "m0", "%changed%")
        .send()
        .await
        .expect("a replace keeps the count");
    let subscription = |name: &str, pattern: &str| {
        logs.put_subscription_filter()
            .log_group_name("g")
            .filter_name(name)
            .filter_pattern(pattern)
            .destination_arn(KINESIS)
            .role_arn(ROLE)
    };
    subscription("s0", "%replaced%")
        .send()
        .await
        .expect("a replace keeps the count");
    let err = subscription("s2", "%sub%").send().await.unwrap_err();
    assert_eq!(
        error_code(&err),
        "LimitExceededException",
        "subscription filters share the quota"
    );
    subscription("s2", "")
        .send()
        .await
        .expect("the group has room for the filter itself");
}

#[tokio::test]
async fn describe_metric_filters_lists_pages_and_filters() {
    let (_emulator, clients) = common::start().await;
    let logs = &clients.logs;
    log_group(logs, "/b").await;
    log_group(logs, "/a").await;
    for (group, name) in [
        ("/b", "errors"),
        ("/a", "errors"),
        ("/a", "latency"),
        ("/b", "err-5xx"),
    ] {
        put(logs, group, name, "ERROR").send().await.unwrap();
    }
    logs.put_metric_filter()
        .log_group_name("/a")
        .filter_name("bytes")
        .filter_pattern("[..., bytes]")
        .metric_transformations(
            MetricTransformation::builder()
                .metric_name("Bytes")
                .metric_namespace("Web")
                .metric_value("$bytes")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let listed = |out: &aws_sdk_cloudwatchlogs::operation::describe_metric_filters::DescribeMetricFiltersOutput| -> Vec<(String, String)> {
        out.metric_filters()
            .iter()
            .map(|f| (f.filter_name().unwrap().to_string(), f.log_group_name().unwrap().to_string()))
            .collect()
    };
    let all = logs.describe_metric_filters().send().await.unwrap();
    let expected: Vec<(String, String)> = [
        ("bytes", "/a"),
        ("err-5xx", "/b"),
        ("errors", "/a"),
        ("errors", "/b"),
        ("latency", "/a"),
    ]
    .iter()
    .map(|(f, g)| (f.to_string(), g.to_string()))
    .collect();
    assert_eq!(listed(&all), expected, "ASCII-sorted by filter name");

    let mut pages = Vec::new();
    let mut token = None;
    loop {
        let out = logs
            .describe_metric_filters()
            .limit(2)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        pages.extend(listed(&out));
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(pages, expected, "paging visits every filter once");

    let prefixed = logs
        .describe_metric_filters()
        .log_group_name("/b")
        .filter_name_prefix("err")
        .send()
        .await
        .unwrap();
    assert_eq!(listed(&prefixed).len(), 2);
    let by_metric = logs
        .describe_metric_filters()
        .metric_name("Bytes")
        .metric_namespace("Web")
        .send()
        .await
        .unwrap();
    assert_eq!(
        listed(&by_metric),
        [("bytes".to_string(), "/a".to_string())]
    );

    let err = logs
        .describe_metric_filters()
        .metric_name("Bytes")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    let err = logs
        .describe_metric_filters()
        .next_token("forged")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    let err = logs
        .describe_metric_filters()
        .log_group_name("/missing")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_resource_not_found_exception());
    let err = logs
        .describe_metric_filters()
        .limit(51)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");

    logs.delete_log_group()
        .log_group_name("/a")
        .send()
        .await
        .unwrap();
    let rest = logs.describe_metric_filters().send().await.unwrap();
    assert_eq!(
        listed(&rest).len(),
        2,
        "a deleted group takes its filters along"
    );
}

#[tokio::test]
async fn test_metric_filter_validates_its_input() {
    let (emulator, clients) = common::start().await;
    let logs = &clients.logs;
    let err = logs
        .test_metric_filter()
        .filter_pattern("{ $.a > \"x\" }")
        .log_event_messages("{\"a\": 1}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    assert_eq!(error_message(&err), "Invalid metric filter pattern");
    let err = logs
        .test_metric_filter()
        .filter_pattern("ERROR")
        .set_log_event_messages(Some((0..51).map(|i| format!("event {i}")).collect()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    let err = logs
        .test_metric_filter()
        .filter_pattern("ERROR")
        .log_event_messages("")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    let out = logs
        .test_metric_filter()
        .filter_pattern("ERROR")
        .set_log_event_messages(Some((0..50).map(|i| format!("ERROR {i}")).collect()))
        .send()
        .await
        .unwrap();
    assert_eq!(out.matches().len(), 50);
    assert_eq!(out.matches()[49].event_number(), 50);
    let calls = emulator.calls();
    assert_eq!(calls.operation("logs", "TestMetricFilter").total, 4);
    assert_eq!(calls.writes(), 0, "testing a pattern is a read");
}
