//! Metric streams through the real aws-sdk-cloudwatch client.

mod common;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::operation::get_metric_stream::GetMetricStreamError;
use aws_sdk_cloudwatch::types::{
    MetricStreamFilter, MetricStreamOutputFormat, MetricStreamStatisticsConfiguration,
    MetricStreamStatisticsMetric, Tag,
};
use common::{ACCOUNT, REGION, error_code, error_message};

const FIREHOSE: &str = "arn:aws:firehose:us-east-1:123456789012:deliverystream/metrics";
const ROLE: &str = "arn:aws:iam::123456789012:role/metric-streams";

fn stream(
    cw: &Client,
    name: &str,
) -> aws_sdk_cloudwatch::operation::put_metric_stream::builders::PutMetricStreamFluentBuilder {
    cw.put_metric_stream()
        .name(name)
        .firehose_arn(FIREHOSE)
        .role_arn(ROLE)
        .output_format(MetricStreamOutputFormat::OpenTelemetry10)
}

#[tokio::test]
async fn put_metric_stream_creates_a_running_stream() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    let out = stream(cw, "all-metrics")
        .include_filters(
            MetricStreamFilter::builder()
                .namespace("AWS/EC2")
                .metric_names("CPUUtilization")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let arn = format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:metric-stream/all-metrics");
    assert_eq!(out.arn(), Some(arn.as_str()));
    let got = cw
        .get_metric_stream()
        .name("all-metrics")
        .send()
        .await
        .unwrap();
    assert_eq!(got.state(), Some("running"));
    assert_eq!(got.firehose_arn(), Some(FIREHOSE));
    assert_eq!(
        got.output_format(),
        Some(&MetricStreamOutputFormat::OpenTelemetry10)
    );
    assert_eq!(got.include_filters()[0].namespace(), Some("AWS/EC2"));
    assert!(got.exclude_filters().is_empty());
    assert!(got.creation_date().is_some() && got.last_update_date().is_some());
}

#[tokio::test]
async fn metric_stream_updates_keep_the_running_state_and_tags() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    stream(cw, "s")
        .tags(Tag::builder().key("k").value("create").build())
        .send()
        .await
        .unwrap();
    cw.stop_metric_streams().names("s").send().await.unwrap();
    assert_eq!(
        cw.get_metric_stream()
            .name("s")
            .send()
            .await
            .unwrap()
            .state(),
        Some("stopped")
    );
    stream(cw, "s")
        .output_format(MetricStreamOutputFormat::Json)
        .tags(Tag::builder().key("k").value("update").build())
        .send()
        .await
        .unwrap();
    let got = cw.get_metric_stream().name("s").send().await.unwrap();
    assert_eq!(
        got.state(),
        Some("stopped"),
        "an update never starts or stops a stream"
    );
    assert_eq!(got.output_format(), Some(&MetricStreamOutputFormat::Json));
    let tags = cw
        .list_tags_for_resource()
        .resource_arn(got.arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags()[0].value(), Some("create"));
    cw.start_metric_streams()
        .names("s")
        .names("unknown")
        .send()
        .await
        .unwrap();
    assert_eq!(
        cw.get_metric_stream()
            .name("s")
            .send()
            .await
            .unwrap()
            .state(),
        Some("running")
    );
}

#[tokio::test]
async fn metric_stream_validation_follows_the_api_reference() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    let filter = MetricStreamFilter::builder().namespace("AWS/EC2").build();
    let err = stream(cw, "both")
        .include_filters(filter.clone())
        .exclude_filters(filter)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterCombination");

    let err = cw
        .put_metric_stream()
        .name("x")
        .role_arn(ROLE)
        .output_format(MetricStreamOutputFormat::Json)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "MissingParameter");
    assert!(
        err.into_service_error()
            .is_missing_required_parameter_exception()
    );

    let err = stream(cw, "bad name!").send().await.unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterValue");
    let err = stream(cw, "other-account")
        .firehose_arn("arn:aws:firehose:us-east-1:999999999999:deliverystream/x")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.into_service_error()
            .is_invalid_parameter_value_exception()
    );

    let stats = |stat: &str| {
        MetricStreamStatisticsConfiguration::builder()
            .include_metrics(
                MetricStreamStatisticsMetric::builder()
                    .namespace("AWS/EC2")
                    .metric_name("CPUUtilization")
                    .build(),
            )
            .additional_statistics(stat)
            .build()
    };
    let err = stream(cw, "otel-trimmed-mean")
        .statistics_configurations(stats("tm99"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_code(&err),
        "InvalidParameterValue",
        "OpenTelemetry streams only percentiles"
    );
    stream(cw, "otel-percentile")
        .statistics_configurations(stats("p99"))
        .send()
        .await
        .unwrap();
    stream(cw, "json-trimmed-mean")
        .output_format(MetricStreamOutputFormat::Json)
        .statistics_configurations(stats("tm99"))
        .send()
        .await
        .unwrap();

    let mut names = MetricStreamFilter::builder().namespace("AWS/EC2");
    for i in 0..1001 {
        names = names.metric_names(format!("m{i}"));
    }
    let err = stream(cw, "too-many-names")
        .include_filters(names.build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterValue");
}

#[tokio::test]
async fn get_metric_stream_reports_missing_streams_and_delete_is_idempotent() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    let err = cw
        .get_metric_stream()
        .name("missing")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.into_service_error(),
        GetMetricStreamError::ResourceNotFoundException(_)
    ));
    stream(cw, "gone").send().await.unwrap();
    cw.delete_metric_stream().name("gone").send().await.unwrap();
    cw.delete_metric_stream().name("gone").send().await.unwrap();
    assert!(cw.get_metric_stream().name("gone").send().await.is_err());
}

#[tokio::test]
async fn list_metric_streams_pages_by_name() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    for i in 0..7 {
        stream(cw, &format!("s{i}")).send().await.unwrap();
    }
    let first = cw
        .list_metric_streams()
        .max_results(3)
        .send()
        .await
        .unwrap();
    assert_eq!(first.entries().len(), 3);
    assert!(first.next_token().is_some());
    let mut all = Vec::new();
    let mut pages = cw
        .list_metric_streams()
        .max_results(3)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        all.extend(
            page.unwrap()
                .entries()
                .iter()
                .map(|e| e.name().unwrap().to_string()),
        );
    }
    assert_eq!(all, ["s0", "s1", "s2", "s3", "s4", "s5", "s6"]);
    assert_eq!(first.entries()[0].state(), Some("running"));
    let err = cw
        .list_metric_streams()
        .max_results(501)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterValue");
}

/// A filter on `namespace` naming `metrics` metrics.
fn filter(namespace: &str, metrics: usize) -> MetricStreamFilter {
    let mut filter = MetricStreamFilter::builder().namespace(namespace);
    for i in 0..metrics {
        filter = filter.metric_names(format!("metric-{i}"));
    }
    filter.build()
}

#[tokio::test]
async fn filters_hold_a_thousand_names_counting_namespaces() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    // AWS's example: 10 namespace filters with 99 metrics each is 1,000 names.
    let mut ten = stream(cw, "ten-by-99");
    for i in 0..10 {
        ten = ten.include_filters(filter(&format!("App/{i}"), 99));
    }
    ten.send().await.unwrap();
    let mut over = stream(cw, "ten-by-99-plus-one");
    for i in 0..10 {
        over = over.exclude_filters(filter(&format!("App/{i}"), 99));
    }
    let err = over
        .exclude_filters(filter("App/extra", 0))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterValue");
    assert!(
        error_message(&err)
            .contains("at most 1000 names, namespaces and metric names together; got 1001"),
        "{err:?}"
    );
}

#[tokio::test]
async fn filter_names_are_printable_ascii() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    stream(cw, "printable")
        .include_filters(
            MetricStreamFilter::builder()
                .namespace("My App/Prod ~ (v2)")
                .metric_names("Latency p99 [ms]")
                .build(),
        )
        .send()
        .await
        .unwrap();
    for (namespace, metric, parameter) in [
        ("Caf\u{e9}", "Latency", "IncludeFilters.member.1.Namespace"),
        ("   ", "Latency", "IncludeFilters.member.1.Namespace"),
        (
            "App",
            "tab\there",
            "IncludeFilters.member.1.MetricNames.member.1",
        ),
    ] {
        let err = stream(cw, "bad")
            .include_filters(
                MetricStreamFilter::builder()
                    .namespace(namespace)
                    .metric_names(metric)
                    .build(),
            )
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&err), "InvalidParameterValue");
        assert!(
            error_message(&err).contains(&format!("for parameter {parameter} is invalid")),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn statistics_configurations_hold_100_metrics_and_20_statistics() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    let configuration = |metrics: usize, statistics: usize| {
        // An empty list is sent as one, not left out.
        let mut c =
            MetricStreamStatisticsConfiguration::builder().set_include_metrics(Some(vec![]));
        for i in 0..metrics {
            c = c.include_metrics(
                MetricStreamStatisticsMetric::builder()
                    .namespace("AWS/EC2")
                    .metric_name(format!("metric-{i}"))
                    .build(),
            );
        }
        for i in 0..statistics {
            c = c.additional_statistics(format!("p{}", 80 + i));
        }
        c.build()
    };
    stream(cw, "full")
        .statistics_configurations(configuration(100, 20))
        .send()
        .await
        .unwrap();
    for (metrics, statistics, message) in [
        (101, 1, "IncludeMetrics must hold 1 to 100 metrics, got 101"),
        (
            1,
            21,
            "AdditionalStatistics must hold 1 to 20 statistics, got 21",
        ),
        (0, 1, "IncludeMetrics must hold 1 to 100 metrics, got 0"),
    ] {
        let err = stream(cw, "over")
            .statistics_configurations(configuration(metrics, statistics))
            .send()
            .await
            .unwrap_err();
        assert_eq!(error_code(&err), "InvalidParameterValue");
        assert_eq!(error_message(&err), message);
    }
    let bad_namespace = MetricStreamStatisticsConfiguration::builder()
        .include_metrics(
            MetricStreamStatisticsMetric::builder()
                .namespace(":AWS/EC2")
                .metric_name("CPUUtilization")
                .build(),
        )
        .additional_statistics("p99")
        .build();
    let err = stream(cw, "colon")
        .statistics_configurations(bad_namespace)
        .send()
        .await
        .unwrap_err();
    assert!(
        error_message(&err).contains(
            "at 'statisticsConfigurations.1.member.includeMetrics.1.member.namespace' failed to \
             satisfy constraint: Member must satisfy regular expression pattern: [^:].*"
        ),
        "{err:?}"
    );
}
