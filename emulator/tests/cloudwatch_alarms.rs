//! Metric alarms through the real aws-sdk-cloudwatch client (RPC v2 CBOR).

mod common;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsError;
use aws_sdk_cloudwatch::operation::set_alarm_state::SetAlarmStateError;
use aws_sdk_cloudwatch::types::{
    AlarmPromQlCriteria, AlarmType, ComparisonOperator, Dimension, EvaluationCriteria, Metric,
    MetricDataQuery, MetricStat, StateValue, Statistic, Tag,
};
use common::{ACCOUNT, Clients, REGION, error_code, error_message};

fn basic_alarm(
    cw: &Client,
    name: &str,
) -> aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder {
    cw.put_metric_alarm()
        .alarm_name(name)
        .namespace("AWS/EC2")
        .metric_name("CPUUtilization")
        .dimensions(
            Dimension::builder()
                .name("InstanceId")
                .value("i-0123")
                .build(),
        )
        .statistic(Statistic::Average)
        .period(60)
        .evaluation_periods(3)
        .threshold(80.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
}

async fn describe_one(cw: &Client, name: &str) -> aws_sdk_cloudwatch::types::MetricAlarm {
    let out = cw.describe_alarms().alarm_names(name).send().await.unwrap();
    assert_eq!(out.metric_alarms().len(), 1, "alarm {name} is described");
    out.metric_alarms()[0].clone()
}

#[tokio::test]
async fn put_metric_alarm_creates_an_alarm_in_insufficient_data_with_aws_defaults() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    basic_alarm(cw, "cpu-high")
        .alarm_actions("arn:aws:sns:us-east-1:123456789012:ops")
        .send()
        .await
        .unwrap();
    let alarm = describe_one(cw, "cpu-high").await;
    assert_eq!(
        alarm.alarm_arn(),
        Some(format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:cpu-high").as_str())
    );
    assert_eq!(alarm.state_value(), Some(&StateValue::InsufficientData));
    assert_eq!(alarm.actions_enabled(), Some(true));
    assert_eq!(
        alarm.alarm_actions(),
        ["arn:aws:sns:us-east-1:123456789012:ops"]
    );
    assert!(alarm.ok_actions().is_empty());
    assert_eq!(alarm.period(), Some(60));
    assert_eq!(alarm.threshold(), Some(80.0));
    assert_eq!(alarm.statistic(), Some(&Statistic::Average));
    assert_eq!(alarm.dimensions()[0].name(), Some("InstanceId"));
    assert!(alarm.treat_missing_data().is_none());
    assert!(alarm.state_updated_timestamp().is_some());
    assert!(
        alarm
            .alarm_configuration_updated_timestamp()
            .unwrap()
            .secs()
            > 1_600_000_000
    );
}

#[tokio::test]
async fn put_metric_alarm_update_replaces_configuration_keeps_state_and_ignores_tags() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    basic_alarm(cw, "a")
        .alarm_description("first")
        .treat_missing_data("breaching")
        .tags(Tag::builder().key("team").value("one").build())
        .send()
        .await
        .unwrap();
    cw.set_alarm_state()
        .alarm_name("a")
        .state_value(StateValue::Alarm)
        .state_reason("test")
        .send()
        .await
        .unwrap();
    let before = describe_one(cw, "a").await;
    basic_alarm(cw, "a")
        .threshold(90.0)
        .tags(Tag::builder().key("team").value("two").build())
        .send()
        .await
        .unwrap();
    let after = describe_one(cw, "a").await;
    assert_eq!(after.threshold(), Some(90.0));
    assert!(
        after.alarm_description().is_none(),
        "omitted members fall back to defaults"
    );
    assert!(after.treat_missing_data().is_none());
    assert_eq!(
        after.state_value(),
        Some(&StateValue::Alarm),
        "state survives the update"
    );
    assert_eq!(
        after.state_updated_timestamp(),
        before.state_updated_timestamp()
    );
    let tags = cw
        .list_tags_for_resource()
        .resource_arn(after.alarm_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags()[0].value(),
        Some("one"),
        "tags given on update are ignored"
    );
}

#[tokio::test]
async fn put_metric_alarm_refuses_model_constraint_violations_with_validation_error() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    let err = basic_alarm(cw, &"x".repeat(256)).send().await.unwrap_err();
    assert_eq!(error_code(&err), "ValidationError");
    assert!(error_message(&err).contains("Member must have length less than or equal to 255"));

    let mut six_actions = basic_alarm(cw, "too-many-actions");
    for i in 0..6 {
        six_actions = six_actions.alarm_actions(format!("arn:aws:sns:us-east-1:123456789012:t{i}"));
    }
    assert_eq!(
        error_code(&six_actions.send().await.unwrap_err()),
        "ValidationError"
    );

    let err = cw
        .put_metric_alarm()
        .alarm_name("no-periods")
        .namespace("N")
        .metric_name("M")
        .statistic(Statistic::Sum)
        .period(60)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap_err();
    assert!(
        error_message(&err).contains("Value null at 'evaluationPeriods'"),
        "{err:?}"
    );
}

#[tokio::test]
async fn put_metric_alarm_enforces_period_and_evaluation_rules() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    let err = basic_alarm(cw, "p").period(45).send().await.unwrap_err();
    assert_eq!(error_code(&err), "ValidationError");
    assert!(error_message(&err).contains("Period must be 10, 20, 30 or a multiple of 60"));
    basic_alarm(cw, "p20").period(20).send().await.unwrap();

    let err = basic_alarm(cw, "d")
        .datapoints_to_alarm(4)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_message(&err),
        "DatapointsToAlarm must be less than or equal to EvaluationPeriods"
    );
    let err = basic_alarm(cw, "day")
        .period(60)
        .evaluation_periods(1441)
        .send()
        .await
        .unwrap_err();
    assert!(error_message(&err).contains("more than a day"));
    basic_alarm(cw, "week")
        .period(3600)
        .evaluation_periods(168)
        .send()
        .await
        .unwrap();
    let err = basic_alarm(cw, "week2")
        .period(3600)
        .evaluation_periods(169)
        .send()
        .await
        .unwrap_err();
    assert!(error_message(&err).contains("more than a week"));
}

#[tokio::test]
async fn put_metric_alarm_refuses_mixed_shapes_and_bad_statistics() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    let err = basic_alarm(cw, "mixed")
        .metrics(MetricDataQuery::builder().id("e1").expression("1").build())
        .send()
        .await
        .unwrap_err();
    // AWS: "Statistic should not be set if list of Metrics is set." (ValidationError).
    assert_eq!(error_code(&err), "ValidationError");
    assert_eq!(
        error_message(&err),
        "Namespace should not be set if list of Metrics is set."
    );

    let err = basic_alarm(cw, "both-stats")
        .extended_statistic("p99")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterCombination");
    basic_alarm(cw, "p99")
        .set_statistic(None)
        .extended_statistic("p99.9")
        .send()
        .await
        .unwrap();
    let err = basic_alarm(cw, "bad-ext")
        .set_statistic(None)
        .extended_statistic("q99")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ValidationError");
    let err = basic_alarm(cw, "bad-missing")
        .treat_missing_data("sometimes")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ValidationError");
    let err = basic_alarm(cw, "no-threshold")
        .set_threshold(None)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ValidationError");
    let err = basic_alarm(cw, "bad-action")
        .alarm_actions("not-an-arn")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ValidationError");
}

fn stat_query(id: &str, return_data: bool) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(id)
        .return_data(return_data)
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace("AWS/EC2")
                        .metric_name("CPUUtilization")
                        .build(),
                )
                .period(60)
                .stat("Average")
                .build(),
        )
        .build()
}

#[tokio::test]
async fn metric_math_alarms_need_exactly_one_result_and_anomaly_alarms_a_band() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    let math = |name: &str| {
        cw.put_metric_alarm()
            .alarm_name(name)
            .evaluation_periods(2)
            .threshold(10.0)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
    };
    math("math")
        .metrics(stat_query("m1", false))
        .metrics(
            MetricDataQuery::builder()
                .id("e1")
                .expression("m1 * 2")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let alarm = describe_one(cw, "math").await;
    assert_eq!(alarm.metrics().len(), 2);
    assert!(alarm.metric_name().is_none() && alarm.dimensions().is_empty());

    let err = math("two-results")
        .metrics(stat_query("m1", true))
        .metrics(
            MetricDataQuery::builder()
                .id("e1")
                .expression("m1 * 2")
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_message(&err),
        "Exactly one element of the metrics list should return data."
    );
    let err = math("bad-id")
        .metrics(stat_query("M1", true))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ValidationError");
    let mut eleven = math("eleven");
    for i in 0..11 {
        eleven = eleven.metrics(stat_query(&format!("m{i}"), i == 0));
    }
    assert_eq!(
        error_code(&eleven.send().await.unwrap_err()),
        "ValidationError"
    );

    cw.put_metric_alarm()
        .alarm_name("anomaly")
        .evaluation_periods(2)
        .comparison_operator(ComparisonOperator::LessThanLowerOrGreaterThanUpperThreshold)
        .threshold_metric_id("ad1")
        .metrics(stat_query("m1", true))
        .metrics(
            MetricDataQuery::builder()
                .id("ad1")
                .expression("ANOMALY_DETECTION_BAND(m1, 2)")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let err = cw
        .put_metric_alarm()
        .alarm_name("band-without-id")
        .evaluation_periods(2)
        .comparison_operator(ComparisonOperator::GreaterThanUpperThreshold)
        .threshold(1.0)
        .metrics(stat_query("m1", true))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ValidationError");
}

#[tokio::test]
async fn describe_alarms_filters_pages_and_limits_names() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    for i in 0..25 {
        basic_alarm(cw, &format!("web-{i:02}"))
            .send()
            .await
            .unwrap();
    }
    basic_alarm(cw, "db-01").send().await.unwrap();

    let by_prefix = cw
        .describe_alarms()
        .alarm_name_prefix("web-")
        .max_records(10)
        .send()
        .await
        .unwrap();
    assert_eq!(by_prefix.metric_alarms().len(), 10);
    assert_eq!(by_prefix.metric_alarms()[0].alarm_name(), Some("web-00"));
    let mut names = Vec::new();
    let mut pages = cw
        .describe_alarms()
        .alarm_name_prefix("web-")
        .max_records(10)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        names.extend(
            page.unwrap()
                .metric_alarms()
                .iter()
                .map(|a| a.alarm_name().unwrap().to_string()),
        );
    }
    assert_eq!(names.len(), 25);
    assert!(names.windows(2).all(|w| w[0] < w[1]), "listed by name");

    let all = cw.describe_alarms().send().await.unwrap();
    assert_eq!(all.metric_alarms().len(), 26, "default page size is 50");

    let by_names = cw
        .describe_alarms()
        .alarm_names("db-01")
        .alarm_names("web-03")
        .alarm_names("missing")
        .send()
        .await
        .unwrap();
    let found: Vec<_> = by_names
        .metric_alarms()
        .iter()
        .filter_map(|a| a.alarm_name())
        .collect();
    assert_eq!(found, ["db-01", "web-03"]);

    let mut too_many = cw.describe_alarms();
    for i in 0..101 {
        too_many = too_many.alarm_names(format!("n{i}"));
    }
    assert_eq!(
        error_code(&too_many.send().await.unwrap_err()),
        "ValidationError"
    );
    let err = cw
        .describe_alarms()
        .alarm_names("a")
        .alarm_name_prefix("a")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterCombination");
    let err = cw
        .describe_alarms()
        .max_records(101)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ValidationError");
    let err = cw
        .describe_alarms()
        .next_token("forged")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.into_service_error(),
        DescribeAlarmsError::InvalidNextToken(_)
    ));

    cw.set_alarm_state()
        .alarm_name("web-07")
        .state_value(StateValue::Alarm)
        .state_reason("t")
        .send()
        .await
        .unwrap();
    let firing = cw
        .describe_alarms()
        .state_value(StateValue::Alarm)
        .send()
        .await
        .unwrap();
    assert_eq!(firing.metric_alarms().len(), 1);
    assert_eq!(firing.metric_alarms()[0].alarm_name(), Some("web-07"));
}

#[tokio::test]
async fn describe_alarms_filters_by_action_prefix_and_type() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    basic_alarm(cw, "paged")
        .ok_actions("arn:aws:sns:us-east-1:123456789012:pager")
        .send()
        .await
        .unwrap();
    basic_alarm(cw, "quiet").send().await.unwrap();
    let out = cw
        .describe_alarms()
        .action_prefix("arn:aws:sns:us-east-1:123456789012:pag")
        .send()
        .await
        .unwrap();
    assert_eq!(out.metric_alarms().len(), 1);
    let out = cw
        .describe_alarms()
        .alarm_types(AlarmType::CompositeAlarm)
        .send()
        .await
        .unwrap();
    assert!(out.metric_alarms().is_empty());
}

#[tokio::test]
async fn set_alarm_state_reports_unknown_alarms_and_invalid_reason_data() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    let err = cw
        .set_alarm_state()
        .alarm_name("nope")
        .state_value(StateValue::Alarm)
        .state_reason("test")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.into_service_error(),
        SetAlarmStateError::ResourceNotFound(_)
    ));

    basic_alarm(cw, "a").send().await.unwrap();
    let err = cw
        .set_alarm_state()
        .alarm_name("a")
        .state_value(StateValue::Ok)
        .state_reason("test")
        .state_reason_data("{not json")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.into_service_error(),
        SetAlarmStateError::InvalidFormatFault(_)
    ));

    cw.set_alarm_state()
        .alarm_name("a")
        .state_value(StateValue::Ok)
        .state_reason("recovered")
        .state_reason_data("{\"version\":\"1.0\"}")
        .send()
        .await
        .unwrap();
    let alarm = describe_one(cw, "a").await;
    assert_eq!(alarm.state_value(), Some(&StateValue::Ok));
    assert_eq!(alarm.state_reason(), Some("recovered"));
    assert_eq!(alarm.state_reason_data(), Some("{\"version\":\"1.0\"}"));
}

#[tokio::test]
async fn delete_alarms_ignores_unknown_names_and_limits_batch_size() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    basic_alarm(cw, "a").send().await.unwrap();
    basic_alarm(cw, "b").send().await.unwrap();
    cw.delete_alarms()
        .alarm_names("a")
        .alarm_names("never-existed")
        .send()
        .await
        .unwrap();
    let left = cw.describe_alarms().send().await.unwrap();
    let names: Vec<_> = left
        .metric_alarms()
        .iter()
        .filter_map(|a| a.alarm_name())
        .collect();
    assert_eq!(names, ["b"]);
    let mut too_many = cw.delete_alarms();
    for i in 0..101 {
        too_many = too_many.alarm_names(format!("n{i}"));
    }
    assert_eq!(
        error_code(&too_many.send().await.unwrap_err()),
        "ValidationError"
    );
}

#[tokio::test]
async fn alarm_tags_are_listed_added_and_removed_by_arn() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    basic_alarm(cw, "t")
        .tags(
            Tag::builder()
                .key("cwo.dev/owner")
                .value("c/ns/Alarm/t")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let arn = format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:t");
    cw.tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("env").value("dev").build())
        .send()
        .await
        .unwrap();
    let tags = cw
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = tags.tags().iter().filter_map(|t| t.key()).collect();
    assert_eq!(keys, ["cwo.dev/owner", "env"]);
    cw.untag_resource()
        .resource_arn(&arn)
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let tags = cw
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 1);

    let missing = format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:missing");
    let err = cw
        .list_tags_for_resource()
        .resource_arn(&missing)
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_resource_not_found_exception());
    let other_region = format!("arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:t");
    let err = cw
        .tag_resource()
        .resource_arn(&other_region)
        .tags(Tag::builder().key("k").value("v").build())
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_resource_not_found_exception());

    let mut many = cw.tag_resource().resource_arn(&arn);
    for i in 0..50 {
        many = many.tags(Tag::builder().key(format!("k{i}")).value("v").build());
    }
    let err = many.send().await.unwrap_err();
    assert_eq!(
        error_code(&err),
        "InvalidParameterValue",
        "51 tags exceed the limit of 50"
    );
    let err = cw
        .tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("aws:reserved").value("v").build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterValue");
}

#[tokio::test]
async fn state_is_kept_per_account_and_region() {
    let (emulator, clients) = common::start().await;
    basic_alarm(&clients.cloudwatch, "shared-name")
        .send()
        .await
        .unwrap();
    let other_region = Clients::new(&emulator.endpoint(), "eu-west-1", "AKIDTESTEXAMPLE").await;
    assert!(
        other_region
            .cloudwatch
            .describe_alarms()
            .send()
            .await
            .unwrap()
            .metric_alarms()
            .is_empty()
    );
    let other_account = Clients::new(&emulator.endpoint(), REGION, "210987654321").await;
    basic_alarm(&other_account.cloudwatch, "shared-name")
        .send()
        .await
        .unwrap();
    let alarm = describe_one(&other_account.cloudwatch, "shared-name").await;
    assert_eq!(
        alarm.alarm_arn(),
        Some("arn:aws:cloudwatch:us-east-1:210987654321:alarm:shared-name")
    );
    assert_eq!(
        describe_one(&clients.cloudwatch, "shared-name")
            .await
            .alarm_arn()
            .unwrap(),
        format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:shared-name")
    );
}

fn promql_alarm(
    cw: &Client,
    name: &str,
) -> aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder {
    cw.put_metric_alarm()
        .alarm_name(name)
        .evaluation_criteria(EvaluationCriteria::PromQlCriteria(
            AlarmPromQlCriteria::builder()
                .query("sum(rate(http_requests_total{code=~\"5..\"}[5m])) > 1")
                .pending_period(120)
                .build(),
        ))
        .evaluation_interval(60)
}

#[tokio::test]
async fn promql_alarms_take_an_evaluation_interval_and_no_threshold_members() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    promql_alarm(cw, "promql").send().await.unwrap();
    promql_alarm(cw, "promql-20s")
        .evaluation_interval(20)
        .send()
        .await
        .unwrap();
    for (request, message) in [
        (
            promql_alarm(cw, "with-threshold").threshold(1.0),
            "Threshold should not be set if EvaluationCriteria is set.",
        ),
        (
            promql_alarm(cw, "with-operator")
                .comparison_operator(ComparisonOperator::GreaterThanThreshold),
            "ComparisonOperator should not be set if EvaluationCriteria is set.",
        ),
        (
            promql_alarm(cw, "with-periods").evaluation_periods(2),
            "EvaluationPeriods should not be set if EvaluationCriteria is set.",
        ),
        (
            promql_alarm(cw, "with-metric").metric_name("CPUUtilization"),
            "MetricName should not be set if EvaluationCriteria is set.",
        ),
        (
            promql_alarm(cw, "no-interval").set_evaluation_interval(None),
            "EvaluationInterval must be specified with EvaluationCriteria",
        ),
        (
            promql_alarm(cw, "odd-interval").evaluation_interval(45),
            "EvaluationInterval must be 10, 20, 30 or a multiple of 60",
        ),
        (
            basic_alarm(cw, "interval-without-promql").evaluation_interval(60),
            "EvaluationInterval can only be used with EvaluationCriteria",
        ),
    ] {
        let err = request.send().await.unwrap_err();
        assert_eq!(error_code(&err), "ValidationError", "{message}");
        assert_eq!(error_message(&err), message);
    }
}

#[tokio::test]
async fn alarm_names_and_dimensions_take_the_documented_characters() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    basic_alarm(cw, "ünïcode name with spaces / and: colons")
        .send()
        .await
        .unwrap();
    let err = basic_alarm(cw, "tab\there").send().await.unwrap_err();
    assert_eq!(error_code(&err), "ValidationError");
    assert!(
        error_message(&err).contains("ASCII control characters"),
        "{err:?}"
    );
    let with_dimension = |name: &str, value: &str| {
        basic_alarm(cw, "dimensions").set_dimensions(Some(vec![
            Dimension::builder().name(name).value(value).build(),
        ]))
    };
    with_dimension("a:b", ":value with spaces")
        .send()
        .await
        .unwrap();
    for (name, value, message) in [
        (
            ":InstanceId",
            "i-1",
            "The value :InstanceId for parameter Dimensions.member.1.Name is invalid.",
        ),
        (
            "   ",
            "i-1",
            "The value     for parameter Dimensions.member.1.Name is invalid.",
        ),
        (
            "InstanceId",
            "caf\u{e9}",
            "The value caf\u{e9} for parameter Dimensions.member.1.Value is invalid.",
        ),
        (
            "InstanceId",
            "line\nbreak",
            "The value line\nbreak for parameter Dimensions.member.1.Value is invalid.",
        ),
    ] {
        let err = with_dimension(name, value).send().await.unwrap_err();
        assert_eq!(
            error_code(&err),
            "InvalidParameterValue",
            "{name:?} {value:?}"
        );
        assert_eq!(error_message(&err), message);
    }
}

#[tokio::test]
async fn each_action_list_takes_the_services_the_reference_lists() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    basic_alarm(cw, "every-kind")
        .alarm_actions("arn:aws:automate:us-east-1:ec2:stop")
        .alarm_actions("arn:aws:sns:us-east-1:123456789012:ops")
        .alarm_actions("arn:aws:lambda:us-east-1:123456789012:function:page")
        .alarm_actions("arn:aws:ssm:us-east-1:123456789012:opsitem:2#CATEGORY=Availability")
        .alarm_actions("arn:aws:aiops:us-east-1:123456789012:investigation-group:abc")
        .ok_actions("arn:aws:ssm-incidents::123456789012:responseplan/web")
        .ok_actions(
            "arn:aws:swf:us-east-1:123456789012:action/actions/AWS_EC2.InstanceId.Reboot/1.0",
        )
        .send()
        .await
        .unwrap();
    for (request, message) in [
        (
            basic_alarm(cw, "events").alarm_actions("arn:aws:events:us-east-1:123456789012:rule/r"),
            "The action arn:aws:events:us-east-1:123456789012:rule/r is not supported in \
             AlarmActions of metric alarms",
        ),
        (
            basic_alarm(cw, "investigation-on-ok")
                .ok_actions("arn:aws:aiops:us-east-1:123456789012:investigation-group:abc"),
            "The action arn:aws:aiops:us-east-1:123456789012:investigation-group:abc is not \
             supported in OKActions of metric alarms",
        ),
    ] {
        let err = request.send().await.unwrap_err();
        assert_eq!(error_code(&err), "ValidationError");
        assert_eq!(error_message(&err), message);
    }
}
