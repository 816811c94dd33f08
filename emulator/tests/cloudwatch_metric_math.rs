//! Metric math, Metrics Insights and anomaly detection alarms: PutMetricAlarm accepts the
//! expressions the CloudWatch user guide documents and refuses what AWS refuses, over both
//! CloudWatch protocols (RPC v2 CBOR through the Rust SDK, awsJson 1.0 as botocore sends it).

mod common;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, Metric, MetricDataQuery, MetricStat,
};
use common::{cloudwatch_json, error_code, error_message};

fn stat(id: &str, stat: &str) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(id)
        .return_data(false)
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace("AWS/ApplicationELB")
                        .metric_name("RequestCount")
                        .dimensions(
                            Dimension::builder()
                                .name("LoadBalancer")
                                .value("app/web")
                                .build(),
                        )
                        .build(),
                )
                .period(60)
                .stat(stat)
                .build(),
        )
        .build()
}

fn expression(id: &str, text: &str, returns: bool) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(id)
        .expression(text)
        .return_data(returns)
        .build()
}

fn alarm(cw: &Client, name: &str) -> PutMetricAlarmFluentBuilder {
    cw.put_metric_alarm()
        .alarm_name(name)
        .evaluation_periods(3)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
}

/// An alarm on `text`, with `m1`, `m2` and `m3` to read.
fn math_alarm(cw: &Client, name: &str, text: &str) -> PutMetricAlarmFluentBuilder {
    alarm(cw, name)
        .metrics(stat("m1", "Sum"))
        .metrics(stat("m2", "Average"))
        .metrics(stat("m3", "p99"))
        .metrics(expression("result", text, true))
}

/// Documented examples (user guide, "Metric math syntax and functions") over `m1`..`m3`.
const DOCUMENTED: &[&str] = &[
    "PERIOD(m1)/60",
    "SUM(100/[m1, m2])",
    "AVG([m1,m2]/m3)",
    "-5*m1",
    "(m1 > 15 AND m2 > 15)",
    "MIN(ABS([m1, m2]))",
    "SUM(m1) / DATAPOINT_COUNT(m1)",
    "FILL(m1, REPEAT)",
    "FILL(METRICS(), LINEAR)",
    "IF(FIRST(SORT(METRICS(), AVG, DESC))>100, 1, 0)",
    "LAST(ANOMALY_DETECTION_BAND(m1))",
    "m1/METRIC_COUNT(METRICS())",
    "SUM([METRICS(\"m\"), METRICS('x')])",
    "IF(DAY(m1)<6,m1)",
    "IF(MONTH(m1) == 4,m1)",
    "RATE(m1) + DIFF(m2) - DIFF_TIME(m3)",
    "RUNNING_SUM([m1,m2])",
    "SLICE(SORT(METRICS(), SUM, DESC), 0, 10)",
    "m1/STDDEV(m1)",
    "TIME_SERIES(5*AVG(m1))",
    "IF(m1<400, 10, 2)",
    "LOG10(m1) * LOG(m2) ^ 2",
    "CEIL(m1) + FLOOR(m2) + SERVICE_QUOTA(m3)",
    "TIME_SERIES(0) + ((INSIGHT_RULE_METRIC(\"rule\", \"MaxContributorValue\") / m1) * 100)",
    "FILL(LAMBDA(\"AmazonOpenSearchDataSource\", \"MyDomain\", \"some-query\"), 0)",
    "m1 / (m2 + m3 + 1e-36)",
];

#[tokio::test]
async fn documented_metric_math_expressions_are_accepted() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    for (i, text) in DOCUMENTED.iter().enumerate() {
        math_alarm(cw, &format!("math-{i}"), text)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{text}: {}", error_message(&e)));
    }
    let described = cw
        .describe_alarms()
        .alarm_name_prefix("math-")
        .send()
        .await
        .unwrap();
    assert_eq!(described.metric_alarms().len(), DOCUMENTED.len());
}

#[tokio::test]
async fn expressions_aws_cannot_parse_are_refused_with_the_position() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    for (text, message) in [
        (
            "FOO(bar",
            "Invalid metrics list: error in the expression of 'result' [Unexpected end of \
             expression, must be: ',' or ')' at char 7]",
        ),
        (
            "FOO(m1)",
            "Invalid metrics list: error in the expression of 'result' [Unknown function 'FOO' \
             at char 0]",
        ),
        (
            "avg(m1)",
            "Invalid metrics list: error in the expression of 'result' [Unknown function 'avg' \
             at char 0]",
        ),
        (
            "m1 +* m2",
            "Invalid metrics list: error in the expression of 'result' [Unsupported token '*' \
             at char 4]",
        ),
        (
            "ABS(m1, m2)",
            "Invalid metrics list: error in the expression of 'result' [Function ABS takes 1 \
             argument(s), got 2 at char 0]",
        ),
        (
            "SORT(METRICS(), MEDIAN, DESC)",
            "Invalid metrics list: error in the expression of 'result' [Invalid argument for \
             SORT: expected one of AVG, MIN, MAX, SUM at char 16]",
        ),
    ] {
        let err = math_alarm(cw, "bad", text).send().await.unwrap_err();
        assert_eq!(error_code(&err), "ValidationError", "{text}");
        assert_eq!(error_message(&err), message, "{text}");
    }
    assert!(
        cw.describe_alarms()
            .send()
            .await
            .unwrap()
            .metric_alarms()
            .is_empty(),
        "nothing was saved"
    );
}

#[tokio::test]
async fn expressions_read_only_ids_of_the_list_without_cycles() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    let err = math_alarm(cw, "unknown-id", "m1 + m4")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_message(&err),
        "Invalid metrics list: the expression of 'result' refers to 'm4' at char 5, which is \
         not an id in the list"
    );
    let err = math_alarm(cw, "upper-case-id", "M1 * 2")
        .send()
        .await
        .unwrap_err();
    assert!(
        error_message(&err).contains("Unrecognized identifier 'M1' at char 0"),
        "{err:?}"
    );
    let err = alarm(cw, "cycle")
        .metrics(stat("m1", "Sum"))
        .metrics(expression("e1", "e2 + m1", true))
        .metrics(expression("e2", "e1 * 2", false))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ValidationError");
    assert!(
        error_message(&err).contains("cycle: e1 -> e2 -> e1"),
        "{err:?}"
    );
    alarm(cw, "chain")
        .metrics(stat("m1", "Sum"))
        .metrics(expression("e1", "m1 * 2", false))
        .metrics(expression("e2", "e1 - MIN(e1)", true))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn metric_stats_name_a_cloudwatch_statistic() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    for good in [
        "SampleCount",
        "p99.9",
        "tm90",
        "IQM",
        "TM(10%:90%)",
        "PR(:300)",
        "TC(0.005:0.030)",
    ] {
        alarm(cw, "stat")
            .metrics(stat("m1", good))
            .metrics(expression("e1", "m1", true))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{good}: {}", error_message(&e)));
    }
    for bad in ["Median", "average", "p101", "PR(:)", "TM(5%:500)"] {
        let err = alarm(cw, "stat")
            .metrics(stat("m1", bad))
            .metrics(expression("e1", "m1", true))
            .send()
            .await
            .unwrap_err();
        assert_eq!(
            error_message(&err),
            format!("Invalid metrics list: '{bad}' of 'm1' is not a valid statistic")
        );
    }
}

#[tokio::test]
async fn a_list_holds_twenty_entries_ten_of_each_kind() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    let full = |name: &str| {
        let mut request = alarm(cw, name);
        for i in 0..10 {
            request = request.metrics(stat(&format!("m{i}"), "Sum"));
        }
        for i in 0..9 {
            request = request.metrics(expression(&format!("e{i}"), &format!("m{i} * 2"), false));
        }
        request
    };
    full("twenty")
        .metrics(expression("total", "SUM(METRICS())", true))
        .send()
        .await
        .unwrap();
    let err = full("twenty-one")
        .metrics(expression("e9", "m9 * 2", false))
        .metrics(expression("total", "SUM(METRICS())", true))
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ValidationError");
    assert!(
        error_message(&err).contains("at most 20 metrics"),
        "{err:?}"
    );
    let mut eleven_stats = alarm(cw, "eleven-stats");
    for i in 0..11 {
        eleven_stats = eleven_stats.metrics(stat(&format!("m{i}"), "Sum"));
    }
    let err = eleven_stats
        .metrics(expression("total", "SUM(METRICS())", true))
        .send()
        .await
        .unwrap_err();
    assert!(
        error_message(&err).contains("got 11 with MetricStat"),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_longest_expression_aws_takes_is_accepted() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    let longest = format!("m1{}", " + m1".repeat((2048 - 2) / 5));
    assert!(longest.len() <= 2048 && longest.len() > 2040);
    math_alarm(cw, "longest", &longest).send().await.unwrap();
    let err = math_alarm(cw, "too-long", &format!("{longest}+m2+m3"))
        .send()
        .await
        .unwrap_err();
    assert!(
        error_message(&err).contains("Member must have length less than or equal to 2048"),
        "{err:?}"
    );
}

#[tokio::test]
async fn metrics_insights_alarms_carry_one_query_and_no_search() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    let query = "SELECT AVG(CPUUtilization) FROM SCHEMA(\"AWS/EC2\", InstanceId) \
                 WHERE InstanceType = 'c5.large' GROUP BY InstanceId ORDER BY MAX() DESC LIMIT 10";
    let with_period = |id: &str, text: &str, returns: bool| {
        MetricDataQuery::builder()
            .id(id)
            .expression(text)
            .period(60)
            .return_data(returns)
            .build()
    };
    alarm(cw, "insights")
        .metrics(with_period("q1", query, false))
        .metrics(expression("e1", "MAX(q1)", true))
        .send()
        .await
        .unwrap();
    let err = alarm(cw, "two-queries")
        .metrics(with_period("q1", query, false))
        .metrics(with_period("q2", query, false))
        .metrics(expression("e1", "q1 + q2", true))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_message(&err),
        "Invalid metrics list: an alarm can have at most one Metrics Insights query; got 2"
    );
    let err = alarm(cw, "bad-query")
        .metrics(with_period(
            "q1",
            "SELECT MEDIAN(CPUUtilization) FROM \"AWS/EC2\"",
            true,
        ))
        .send()
        .await
        .unwrap_err();
    assert!(
        error_message(&err)
            .contains("Unsupported token 'MEDIAN', must be: AVG, COUNT, MAX, MIN, SUM at char 7"),
        "{err:?}"
    );
    let err = alarm(cw, "search")
        .metrics(with_period(
            "e1",
            "MAX(SEARCH('{AWS/EC2,InstanceId} MetricName=\"CPUUtilization\"', 'Average', 300))",
            true,
        ))
        .send()
        .await
        .unwrap_err();
    assert!(
        error_message(&err).contains("an alarm cannot watch a search expression"),
        "{err:?}"
    );
}

#[tokio::test]
async fn anomaly_detection_alarms_watch_one_band_and_take_no_auto_scaling_actions() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    let mut metric = stat("m1", "Sum");
    metric.return_data = Some(true);
    let anomaly = |name: &str, band: &str| {
        cw.put_metric_alarm()
            .alarm_name(name)
            .evaluation_periods(2)
            .comparison_operator(ComparisonOperator::LessThanLowerOrGreaterThanUpperThreshold)
            .threshold_metric_id("ad1")
            .metrics(metric.clone())
            .metrics(expression("ad1", band, true))
    };
    anomaly("band", "ANOMALY_DETECTION_BAND(m1, 2)")
        .send()
        .await
        .unwrap();
    let err = anomaly("not-a-band", "m1 * 2").send().await.unwrap_err();
    assert_eq!(error_code(&err), "ValidationError");
    assert!(
        error_message(&err).contains("must be the id of an ANOMALY_DETECTION_BAND expression"),
        "{err:?}"
    );
    let err = anomaly("band-of-a-number", "ANOMALY_DETECTION_BAND(2)")
        .send()
        .await
        .unwrap_err();
    assert!(
        error_message(&err).contains("expected the id of a metric"),
        "{err:?}"
    );
    let err = anomaly("scaling", "ANOMALY_DETECTION_BAND(m1)")
        .alarm_actions(
            "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:11111111-2222-3333-4444-\
             555555555555:autoScalingGroupName/web:policyName/up",
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ValidationError");
    assert!(
        error_message(&err).contains("cannot have Auto Scaling actions"),
        "{err:?}"
    );
}

/// The same refusals reach botocore's protocol: awsJson 1.0 with the query-compatible code.
#[tokio::test]
async fn aws_json_clients_get_the_same_refusals() {
    let (emulator, clients) = common::start().await;
    let endpoint = emulator.endpoint();
    let body = |expression: &str| {
        serde_json::json!({
            "AlarmName": "json-math",
            "EvaluationPeriods": 1,
            "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanThreshold",
            "Metrics": [
                {"Id": "m1", "ReturnData": false, "MetricStat": {
                    "Metric": {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization"},
                    "Period": 60, "Stat": "Average"}},
                {"Id": "e1", "Expression": expression, "ReturnData": true}
            ]
        })
        .to_string()
    };
    let answer = cloudwatch_json(&endpoint, "PutMetricAlarm", &body("FOO(bar")).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(
        answer.header("x-amzn-query-error"),
        Some("ValidationError;Sender")
    );
    let error: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(
        error["message"],
        "Invalid metrics list: error in the expression of 'e1' [Unexpected end of expression, \
         must be: ',' or ')' at char 7]"
    );
    let answer = cloudwatch_json(&endpoint, "PutMetricAlarm", &body("FOO(m1)")).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        answer.body.contains("Unknown function 'FOO' at char 0"),
        "{}",
        answer.body
    );
    let answer = cloudwatch_json(&endpoint, "PutMetricAlarm", &body("m1 * 100")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let described = clients
        .cloudwatch
        .describe_alarms()
        .alarm_names("json-math")
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.metric_alarms()[0].metrics()[1].expression(),
        Some("m1 * 100")
    );
}
