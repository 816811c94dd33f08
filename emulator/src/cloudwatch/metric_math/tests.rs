//! The examples of the CloudWatch user guide are accepted; malformed expressions are refused
//! with the position of the problem.

use super::{Expression, analyse};

/// Every example expression of "Metric math syntax and functions", "Using IF expressions",
/// "Use your custom data source" and the Performance Insights guide.
const DOCUMENTED: &[&str] = &[
    "PERIOD(m1)/60",
    "5 * m1",
    "m1 - m2",
    "SUM(100/[m1, m2])",
    "AVG([m1,m2]/m3)",
    "METRICS()*100",
    "-5*m1",
    "-m1",
    "SUM(-[m1, m2])",
    "(metric1 < metric2)",
    "(metric1 >= 30)",
    "(metric1 > 15 AND metric2 > 15)",
    "metric1 > 15 && metric2 > 15 || metric1 == 0",
    "m1 != m2",
    "m1 <= 3 OR m2 ^ 2 > 9",
    "ABS(m1-m2)",
    "MIN(ABS([m1, m2]))",
    "ABS(METRICS())",
    "ANOMALY_DETECTION_BAND(m1)",
    "ANOMALY_DETECTION_BAND(m1,4)",
    "SUM([m1,m2])/AVG(m2)",
    "AVG(METRICS())",
    "CEIL(m1)",
    "CEIL(METRICS())",
    "SUM(CEIL(METRICS()))",
    "SUM(m1) / DATAPOINT_COUNT(m1)",
    "DATAPOINT_COUNT(METRICS())",
    "DIFF(m1)",
    "DIFF_TIME(METRICS())",
    "FILL(m1,10)",
    "FILL(METRICS(), 0)",
    "FILL(METRICS(), m1)",
    "FILL(m1, MIN(m1))",
    "FILL(m1, REPEAT)",
    "FILL(METRICS(), LINEAR)",
    "IF(FIRST(SORT(METRICS(), AVG, DESC))>100, 1, 0)",
    "LAST(ANOMALY_DETECTION_BAND(m1))",
    "FLOOR(m1)",
    "FLOOR(METRICS())",
    "LOG(METRICS())",
    "LOG10(m1)",
    "MAX(m1)/m1",
    "MAX(METRICS())",
    "m1/METRIC_COUNT(METRICS())",
    "SUM(METRICS(\"errors\"))",
    "SUM([METRICS(\"4xx\"), METRICS(\"5xx\")])",
    "m1-MIN(m1)",
    "MIN(METRICS())",
    "MINUTE(m1)",
    "HOUR(m1) + DATE(m1) + YEAR(m1) + EPOCH(m1)",
    "IF(DAY(m1)<6,m1)",
    "IF(MONTH(m1) == 4,m1)",
    "m1/PERIOD(m1)",
    "RATE(m1)",
    "RATE(METRICS())",
    "REMOVE_EMPTY(METRICS())",
    "RUNNING_SUM([m1,m2])",
    "SLICE(SORT(METRICS(), SUM, DESC), 0, 10)",
    "SLICE(SORT(METRICS(), AVG, ASC), 5)",
    "SORT(METRICS(), AVG, DESC, 10)",
    "SORT(METRICS(), MAX, ASC)",
    "m1/STDDEV(m1)",
    "STDDEV(METRICS())",
    "SUM(METRICS())/SUM(m1)",
    "SUM([m1,m2])",
    "SUM(METRICS(\"errors\"))/SUM(METRICS(\"requests\"))*100",
    "TIME_SERIES(MAX(m1))",
    "TIME_SERIES(5*AVG(m1))",
    "TIME_SERIES(10)",
    "e1-MIN(e1)",
    "m1+m2",
    "IF(metric1<400, metric1)",
    "IF(metric1<400, 10, 2)",
    "IF(latency>threshold, 1, 0)",
    "IF(metric1, metric2, metric3)",
    "SERVICE_QUOTA(m1)",
    "CONCAT([m1, m2], [m3])",
    "INSIGHT_RULE_METRIC(\"testrulename\", \"MaxContributorValue\")",
    "TIME_SERIES(0) + ((INSIGHT_RULE_METRIC(\"rule\", \"MaxContributorValue\") / m1) * 100)",
    "LAMBDA(\"AmazonOpenSearchDataSource\", \"MyDomain\", \"some-query\")",
    "LAMBDA(\"MyCustomDataSource\", true, \"fuzzy\", 99.9)",
    "FILL(LAMBDA(\"AmazonOpenSearchDataSource\", \"MyDomain\", \"some-query\"), 0)",
    "DB_PERF_INSIGHTS('RDS', 'db-ABCDEFGHIJKLMNOPQRSTUVWXY1', 'os.cpuUtilization.user.avg')",
    "DB_PERF_INSIGHTS('RDS', 'db-1', ['db.SQL.queries_started.avg', 'db.Transactions.xact_commit.avg'])",
    "SEARCH(' {AWS/EC2,InstanceId} MetricName=\"CPUUtilization\" ', 'Average', 300)",
    "serverError / (success + authError + clientError + serverError + 1e-36)",
    "100 - 100 * errors / MAX([errors, invocations])",
    "  m1\n  * 2 ",
    ".5 * m1 + 2.5E3",
];

/// The Metrics Insights examples of "Metrics Insights query components and syntax" and "Use
/// Metrics Insights queries with metric math".
const DOCUMENTED_QUERIES: &[&str] = &[
    "SELECT AVG(CPUUtilization) FROM \"AWS/EC2\"",
    "SELECT AVG(CPUUtilization) FROM SCHEMA(\"AWS/EC2\")",
    "SELECT AVG(CPUUtilization) FROM SCHEMA(\"AWS/EC2\", InstanceId)",
    "SELECT SUM(RequestCount) FROM SCHEMA(\"AWS/ApplicationELB\", LoadBalancer, AvailabilityZone)",
    "SELECT MAX(CPUUtilization) FROM \"AWS/EC2\" WHERE AutoScalingGroupName = 'my-production-fleet'",
    "SELECT MAX(\"My.Metric\") FROM \"Custom\"",
    "SELECT AVG(\"Bytes\\\"Input\\\"\") FROM \"Custom\"",
    "SELECT AVG(\"LIMIT\") FROM \"Custom\"",
    "SELECT SUM(RequestCount)\nFROM SCHEMA(\"AWS/ApplicationELB\", LoadBalancer, AvailabilityZone)\n\
     WHERE LoadBalancer = 'app/load-balancer-1'\nGROUP BY AvailabilityZone\nORDER BY MAX() DESC\nLIMIT 5",
    "SELECT SUM(BytesDownloaded) FROM SCHEMA(\"AWS/S3\", BucketName, FilterId) \
     WHERE FilterId = 'EntireBucket' GROUP BY BucketName",
    "select avg(CPUUtilization) from \"AWS/EC2\" where InstanceType != 'c3.4xlarge' order by sum() asc limit 500",
    "SELECT COUNT(CPUUtilization) FROM \"AWS/EC2\" WHERE InstanceType IN ('t3.micro', 't3.small') \
     AND (AutoScalingGroupName LIKE 'web-%' OR NOT AutoScalingGroupName = 'batch')",
];

#[test]
fn documented_expressions_are_accepted() {
    for text in DOCUMENTED {
        let parsed = analyse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(matches!(parsed, Expression::Math { .. }), "{text}");
    }
}

#[test]
fn documented_metrics_insights_queries_are_accepted() {
    for text in DOCUMENTED_QUERIES {
        let parsed = analyse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(parsed, Expression::Insights, "{text}");
    }
}

fn refused(text: &str) -> String {
    match analyse(text) {
        Ok(parsed) => panic!("{text} was accepted: {parsed:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn malformed_expressions_are_refused_where_they_break() {
    for (text, message) in [
        (
            "FOO(bar",
            "Unexpected end of expression, must be: ',' or ')' at char 7",
        ),
        ("FOO(m1)", "Unknown function 'FOO' at char 0"),
        ("2 * sum(m1)", "Unknown function 'sum' at char 4"),
        ("m1 +", "Unexpected end of expression at char 4"),
        ("m1 m2", "Unsupported token 'm2' at char 3"),
        (
            "(m1",
            "Unexpected end of expression, must be: ')' at char 3",
        ),
        ("m1)", "Unsupported token ')' at char 2"),
        ("ABS()", "Function ABS takes 1 argument(s), got 0 at char 0"),
        (
            "ABS(m1, m2)",
            "Function ABS takes 1 argument(s), got 2 at char 0",
        ),
        (
            "IF(m1)",
            "Function IF takes 2 to 3 argument(s), got 1 at char 0",
        ),
        (
            "SORT(METRICS(), MEDIAN, DESC)",
            "Invalid argument for SORT: expected one of AVG, MIN, MAX, SUM at char 16",
        ),
        (
            "FILL(m1, SOMETIMES)",
            "Unrecognized identifier 'SOMETIMES' at char 9",
        ),
        ("M1 * 2", "Unrecognized identifier 'M1' at char 0"),
        (
            "ABS",
            "Function ABS must be called with parentheses at char 0",
        ),
        ("m1 = 2", "Unsupported token '=' at char 3"),
        ("!m1", "Unsupported token '!' at char 0"),
        (
            "m1 + 'x'",
            "Unexpected string \"x\": strings are only function arguments at char 5",
        ),
        (
            "METRICS(m1)",
            "Invalid argument for METRICS: expected a quoted string at char 8",
        ),
        (
            "ANOMALY_DETECTION_BAND(2)",
            "Invalid argument for ANOMALY_DETECTION_BAND: expected the id of a metric at char 23",
        ),
        (
            "ANOMALY_DETECTION_BAND(m1, m2)",
            "Invalid argument for ANOMALY_DETECTION_BAND: expected a number at char 27",
        ),
        ("SUM([])", "Unsupported token ']' at char 5"),
        ("m1 * 2x", "Malformed number at char 5"),
        ("\"unterminated", "Unterminated string at char 0"),
        ("   ", "Empty expression at char 0"),
        ("m1 AND", "Unexpected end of expression at char 6"),
        ("AND m1", "Unsupported token 'AND' at char 0"),
        (
            "LAMBDA(\"f\", m1)",
            "Invalid argument for LAMBDA: expected a string, a number, true or false at char 12",
        ),
    ] {
        assert_eq!(refused(text), message, "{text}");
    }
}

#[test]
fn lambda_takes_at_most_twenty_arguments_after_the_function_name() {
    let args = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
    assert!(analyse(&format!("LAMBDA(\"f\", {})", args(20))).is_ok());
    assert!(
        refused(&format!("LAMBDA(\"f\", {})", args(21)))
            .contains("takes 1 to 21 argument(s), got 22")
    );
}

#[test]
fn nesting_is_bounded_without_overflowing_the_stack() {
    let deep = format!("{}m1{}", "(".repeat(63), ")".repeat(63));
    assert!(analyse(&deep).is_ok());
    let deeper = format!("{}m1{}", "(".repeat(1000), ")".repeat(1000));
    assert!(refused(&deeper).contains("nested too deeply"));
    let negations = format!("{}m1", "-".repeat(1000));
    assert!(refused(&negations).contains("nested too deeply"));
    // The longest expression AWS takes (2,048 characters) as one flat chain.
    let chain = vec!["m1"; 682].join("+");
    assert!(chain.len() <= 2048);
    assert!(analyse(&chain).is_ok());
}

#[test]
fn malformed_metrics_insights_queries_are_refused() {
    for (text, message) in [
        (
            "SELECT FROM \"AWS/EC2\"",
            "Unsupported token 'FROM', must be: AVG, COUNT, MAX, MIN, SUM at char 7",
        ),
        (
            "SELECT MEDIAN(CPU) FROM x",
            "Unsupported token 'MEDIAN', must be: AVG, COUNT, MAX, MIN, SUM at char 7",
        ),
        (
            "SELECT AVG(CPU) FROM",
            "Unexpected end of query, must be: a name at char 20",
        ),
        (
            "SELECT AVG(CPU) \"AWS/EC2\"",
            "Unsupported token '\"AWS/EC2\"', must be: FROM at char 16",
        ),
        (
            "SELECT AVG(CPU) FROM x LIMIT 501",
            "LIMIT must be an integer from 1 to 500 at char 29",
        ),
        (
            "SELECT AVG(CPU) FROM x WHERE a = b",
            "Unsupported token 'b', must be: a label value in single quotes at char 33",
        ),
        (
            "SELECT AVG(CPU) FROM x GROUP a",
            "Unsupported token 'a', must be: BY at char 29",
        ),
        (
            "SELECT AVG(CPU) FROM x ORDER BY MAX DESC",
            "Unsupported token 'DESC', must be: '(' at char 36",
        ),
        (
            "SELECT AVG(CPU) FROM x y",
            "Unsupported token 'y', must be: GROUP BY, ORDER BY, LIMIT or the end of the query at char 23",
        ),
        (
            "SELECT AVG(CPU) FROM 'x'",
            "Unsupported token ''x'', must be: a name at char 21",
        ),
    ] {
        assert_eq!(refused(text), message, "{text}");
    }
}

#[test]
fn references_and_calls_are_reported_with_positions() {
    let parsed = analyse("IF(m1 > AVG(e_total), m1, 0)").unwrap();
    let Expression::Math { usage, outer } = parsed else {
        panic!("math expected")
    };
    assert_eq!(
        usage.references,
        [
            ("m1".to_string(), 3),
            ("e_total".to_string(), 12),
            ("m1".to_string(), 22)
        ]
    );
    assert_eq!(outer.as_deref(), Some("IF"));
    assert_eq!(usage.calls.len(), 2);
    let band = analyse("ANOMALY_DETECTION_BAND(m1, 2)").unwrap();
    assert_eq!(band.calls("ANOMALY_DETECTION_BAND"), 1);
    assert_eq!(band.references(), [("m1".to_string(), 23)]);
}

mod properties {
    use super::super::analyse;
    use proptest::prelude::*;

    /// Text built from the pieces expressions are made of, so that most inputs get deep into
    /// the grammar before they break.
    fn expression_soup() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "m1", "e_2", "SUM", "IF", "FILL", "SORT", "LAMBDA", "METRICS", "REPEAT", "AVG", "(",
            ")", "[", "]", ",", "+", "-", "*", "/", "^", "==", "<", "AND", "||", "\"s\"", "'t'",
            "1.5", "2e3", ".", "\"", "!", "=", " ", "\n", "é",
        ]);
        prop::collection::vec(pieces, 0..40).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn any_text_is_accepted_or_refused_at_a_position_inside_it(text in expression_soup()) {
            if let Err(error) = analyse(&text) {
                prop_assert!(error.at <= text.chars().count(), "{error} for {text:?}");
            }
        }

        #[test]
        fn any_select_is_accepted_or_refused_at_a_position_inside_it(rest in expression_soup()) {
            let text = format!("SELECT {rest}");
            if let Err(error) = analyse(&text) {
                prop_assert!(error.at <= text.chars().count(), "{error} for {text:?}");
            }
        }
    }
}
