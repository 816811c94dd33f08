//! Valid input at its extremes: objects at every limit the CRDs state (the longest names
//! Kubernetes and AWS allow, the most tags, actions, dimensions, filter entries and statistics)
//! are accepted by the API server, whose CEL rules must neither refuse them nor run out of cost
//! budget on them, and parse into the operator's types. The invalid corpus shows the same limits
//! refuse one more.

use anyhow::{Context, Result, bail};
use cloudwatch_operator::alarm::Alarm;
use cloudwatch_operator::common_fields::MAX_USER_TAGS;
use cloudwatch_operator::composite_alarm::CompositeAlarm;
use cloudwatch_operator::log_destination::LogDestination;
use cloudwatch_operator::log_subscription::LogSubscription;
use cloudwatch_operator::metric_filter::MetricFilter;
use cloudwatch_operator::metric_stream::MetricStream;
use cloudwatch_operator::sampling_rule::SamplingRule;
use cwo_e2e::checks::TestNamespace;
use cwo_e2e::{repo_root, report};
use serde_json::{Value, json};

use crate::corpus::{self, bed};

const ACCOUNT: &str = "123456789012";

/// `n` characters: `prefix`, then `fill` up to the length.
fn long(prefix: &str, fill: char, n: usize) -> String {
    let mut s = prefix.to_string();
    while s.chars().count() < n {
        s.push(fill);
    }
    s
}

/// The longest `metadata.name` Kubernetes allows (a DNS subdomain of 253 characters).
fn longest_object_name() -> String {
    long("extreme-", 'a', 253)
}

fn object(kind: &str, name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "cwo.dev/v1alpha1",
        "kind": kind,
        "metadata": { "name": name },
        "spec": spec,
    })
}

/// The most tags a spec may carry, with the longest keys and values CloudWatch allows.
fn cloudwatch_tags() -> Value {
    (0..MAX_USER_TAGS)
        .map(|i| {
            (
                long(&format!("tag-{i:02}-"), 'k', 128),
                Value::from(long(&format!("value {i} "), 'v', 256)),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The most tags a sampling rule may carry, the longest X-Ray allows (values of 255 characters,
/// one fewer than CloudWatch), using every character class X-Ray takes (letters of any script,
/// digits, spaces and + - = . _ : /).
fn xray_tags() -> Value {
    (0..MAX_USER_TAGS)
        .map(|i| {
            (
                long(&format!("équipe {i:02} +-=._:/ "), 'é', 128),
                Value::from(long(&format!("Zürich {i} 東京 +-=._:/ "), 'ü', 255)),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The most tags a log destination may carry, the longest CloudWatch Logs allows, using every
/// character class it takes (letters of any script, digits, spaces and _ . : / = + - @).
fn logs_tags() -> Value {
    (0..MAX_USER_TAGS)
        .map(|i| {
            (
                long(&format!("équipe {i:02} _.:/=+-@ "), 'é', 128),
                Value::from(long(&format!("Zürich {i} 東京 _.:/=+-@ "), 'ü', 256)),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// 30 dimensions with the longest names and values (printable ASCII, names not starting with a
/// colon; the first name starts with spaces, the first value with a colon).
fn dimensions() -> Value {
    (0..30)
        .map(|i| {
            let name = if i == 0 {
                long("  ~dim:0 ", 'n', 255)
            } else {
                long(&format!("Dim{i:02}"), 'n', 255)
            };
            let value = if i == 0 {
                long(":value ", 'v', 1024)
            } else {
                long(&format!("value{i:02}"), 'v', 1024)
            };
            json!({ "name": name, "value": value })
        })
        .collect()
}

fn sns(name: &str) -> String {
    format!("arn:aws:sns:us-east-1:{ACCOUNT}:{name}")
}

/// Every extended statistic form, with the bounds at their limits.
const EXTENDED_STATISTICS: [&str; 20] = [
    "p0",
    "p100",
    "p99.9999999999",
    "tm99",
    "tc0.5",
    "ts100",
    "wm90",
    "IQM",
    "PR(:300)",
    "PR(-100.5:2000)",
    "PR(0:)",
    "TM(0%:100%)",
    "TM(:99.9999999999%)",
    "TM(150:1000)",
    "TC(10%:)",
    "TC(0.005:0.030)",
    "TS(80%:)",
    "TS(:1000)",
    "WM(10%:90%)",
    "WM(:0.5)",
];

fn cases() -> Vec<(&'static str, Value)> {
    let longest = longest_object_name();
    let single_metric = || {
        json!({
            "namespace": long("Custom/", 'n', 255),
            "metricName": long("Metric", 'm', 255),
            "dimensions": dimensions(),
            "extendedStatistic": "p99.9999999999",
            "period": 3600,
            "evaluationPeriods": 168,
            "datapointsToAlarm": 168,
            "comparisonOperator": "GreaterThanThreshold",
            "threshold": 1e300,
        })
    };
    let mut alarm_at_limits = single_metric();
    alarm_at_limits["alarmName"] = long("Alarm ✓ ", 'x', 255).into();
    alarm_at_limits["description"] = long("", 'd', 1024).into();
    alarm_at_limits["okActions"] = json!([
        sns("ok"),
        format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:page:live"),
        format!("arn:aws:ssm:us-east-1:{ACCOUNT}:opsitem:3#CATEGORY=Availability"),
        format!("arn:aws:ssm-incidents::{ACCOUNT}:response-plan/api-down"),
        "arn:aws:automate:us-east-1:ec2:recover",
    ]);
    alarm_at_limits["alarmActions"] = json!([
        sns("alarm"),
        format!("arn:aws:aiops:us-east-1:{ACCOUNT}:investigation-group/0123456789abcdef"),
        format!(
            "arn:aws:autoscaling:us-east-1:{ACCOUNT}:scalingPolicy:1a2b:autoScalingGroupName/web:policyName/out"
        ),
        format!("arn:aws:swf:us-east-1:{ACCOUNT}:action/actions/AWS_EC2.InstanceId.Reboot/1.0"),
        "arn:aws:automate:us-east-1:ec2:stop",
    ]);
    alarm_at_limits["insufficientDataActions"] = json!([
        sns("a"),
        sns("b"),
        sns("c"),
        sns("d"),
        format!("arn:aws-us-gov:sns:us-gov-west-1:{ACCOUNT}:e"),
    ]);
    alarm_at_limits["tags"] = cloudwatch_tags();
    alarm_at_limits["evaluationWindow"] = json!({"wallClockWindow": {"timezone": "UTC+05:45"}});

    // Metric math at its limits: 10 entries fetching metrics, each with 30 dimensions and a
    // statistic of every form, and 10 expressions, exactly one returning data.
    let mut metrics: Vec<Value> = (0..10)
        .map(|i| {
            json!({
                "id": long(&format!("m{i}_"), 'x', 255),
                "metricStat": {
                    "metric": {
                        "namespace": "AWS/ApplicationELB",
                        "metricName": "TargetResponseTime",
                        "dimensions": dimensions(),
                    },
                    "period": 60,
                    "stat": EXTENDED_STATISTICS[i * 2],
                },
                "returnData": false,
            })
        })
        .collect();
    metrics.extend((0..10).map(|i| {
        json!({
            "id": format!("e{i}"),
            "expression": long("FLOOR(1) ", ' ', 2048),
            "label": long("", 'l', 2048),
            "returnData": i == 9,
        })
    }));
    let metric_math = json!({
        "metrics": metrics,
        "comparisonOperator": "LessThanThreshold",
        "threshold": -1e300,
        "evaluationPeriods": 1440,
    });

    let anomaly_band = json!({
        "metrics": [
            {"id": "m1", "metricStat": {"metric": {"namespace": "AWS/EC2", "metricName": "CPUUtilization"}, "period": 300, "stat": "Average"}},
            {"id": "band", "expression": "ANOMALY_DETECTION_BAND(m1, 2)"},
        ],
        "thresholdMetricId": "band",
        "comparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold",
        "evaluationPeriods": 288,
        "alarmActions": [sns("oncall"), "arn:aws:automate:us-east-1:ec2:reboot"],
    });

    let composite_at_limits = json!({
        "alarmName": long("Composite ✓ ", 'c', 255),
        "description": long("", 'd', 1024),
        "rule": {
            "anyOf": (0..100)
                .map(|i| json!({"alarm": {"alarmName": long(&format!("child-{i} "), 'c', 255)}}))
                .collect::<Vec<_>>()
        },
        "alarmActions": [
            sns("alarm"),
            format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:page"),
            format!("arn:aws:ssm:us-east-1:{ACCOUNT}:opsitem:1"),
            format!("arn:aws:ssm-incidents::{ACCOUNT}:response-plan/api-down"),
            format!("arn:aws:aiops:us-east-1:{ACCOUNT}:investigation-group/0123456789abcdef"),
        ],
        "okActions": [sns("a"), sns("b"), sns("c"), sns("d"), format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:f")],
        "insufficientDataActions": [sns("a"), sns("b"), sns("c"), sns("d"), sns("e")],
        "actionsSuppressor": long("arn:aws:cloudwatch:us-east-1:123456789012:alarm:", 's', 1600),
        "actionsSuppressorWaitPeriod": i32::MAX,
        "actionsSuppressorExtensionPeriod": 0,
        "tags": cloudwatch_tags(),
    });
    // atLeast at its limits, in rules that stay within 100 children: on the second, third and
    // fourth level over the same 100 Alarm objects (the longest names, a count of all of them,
    // 1% and 100%, NOT); a count of 100 over both lists; the longest alarm ARNs.
    let at_least = |threshold: Value, refs: Vec<String>, names: Vec<String>| {
        let mut condition = json!({"state": "INSUFFICIENT_DATA", "not": true});
        condition
            .as_object_mut()
            .expect("an object")
            .extend(threshold.as_object().expect("an object").clone());
        if !refs.is_empty() {
            condition["alarmRefs"] = json!(refs);
        }
        if !names.is_empty() {
            condition["alarmNames"] = json!(names);
        }
        json!({"atLeast": condition})
    };
    let refs = |n: usize| {
        (0..n)
            .map(|i| long(&format!("web-{i:03}-"), 'a', 253))
            .collect::<Vec<_>>()
    };
    let arns = |n: usize| {
        (0..n)
            .map(|i| {
                long(
                    &format!("arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:web {i:03} ✓ "),
                    'c',
                    1600,
                )
            })
            .collect::<Vec<_>>()
    };
    let composite_at_least_levels = json!({
        "rule": {
            "anyOf": [
                at_least(json!({"count": 100}), refs(100), vec![]),
                {"allOf": [
                    at_least(json!({"percent": 100}), refs(100), vec![]),
                    {"not": at_least(json!({"percent": 1}), refs(100), vec![])},
                    {"anyOf": [at_least(json!({"count": 1}), refs(1), vec![])]},
                ]},
            ]
        },
    });
    let composite_at_least_both_lists = json!({
        "rule": at_least(json!({"count": 100}), refs(50), arns(50)),
    });
    let composite_at_least_arns = json!({
        "rule": at_least(json!({"percent": 1}), vec![], arns(100)),
    });
    let composite_longest_rule = json!({
        "alarmRule": long("ALARM(\"checkout-5xx\") OR ", ' ', 10240),
    });

    let stream = |extra: Value| {
        let mut spec = json!({
            "firehoseArn": format!("arn:aws:firehose:us-east-1:{ACCOUNT}:deliverystream/metrics"),
            "roleArn": format!("arn:aws:iam::{ACCOUNT}:role/metric-stream"),
            "outputFormat": "json",
        });
        spec.as_object_mut()
            .expect("an object")
            .extend(extra.as_object().expect("an object").clone());
        spec
    };
    // 1000 entries: one namespace with 999 metric names of 255 characters.
    let include_1000 = stream(json!({
        "streamName": long("stream_", '-', 255),
        "includeFilters": [{
            "namespace": long(" ~Custom/", 'n', 255),
            "metricNames": (0..999).map(|i| long(&format!("m{i:03}"), 'm', 255)).collect::<Vec<_>>(),
        }],
        "tags": cloudwatch_tags(),
    }));
    // 1000 entries: 1000 namespaces.
    let exclude_1000 = stream(json!({
        "excludeFilters": (0..1000).map(|i| json!({"namespace": format!("Custom/{i:04}")})).collect::<Vec<_>>(),
    }));
    // 100 statistics configurations of 20 statistics each, in every extended form.
    let statistics_100 = stream(json!({
        "statisticsConfigurations": (0..100).map(|i| json!({
            "includeMetrics": [{"namespace": "AWS/ApplicationELB", "metricName": format!("Metric{i}")}],
            "additionalStatistics": EXTENDED_STATISTICS,
        })).collect::<Vec<_>>(),
    }));
    // OpenTelemetry: 100 metrics and 20 percentiles in one configuration.
    let opentelemetry = stream(json!({
        "outputFormat": "opentelemetry1.0",
        "statisticsConfigurations": [{
            "includeMetrics": (0..100).map(|i| json!({"namespace": long("AWS/", 'n', 255), "metricName": long(&format!("M{i}"), 'm', 255)})).collect::<Vec<_>>(),
            "additionalStatistics": ["p0", "p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "p99.5", "p99.9", "p99.99", "p99.999", "p99.9999999999", "p100", "p100.0", "p0.0000000001", "p33.3", "p66.6"],
        }],
    }));

    let subscription = json!({
        "logGroupName": long("/aws/lambda/#._-", 'g', 512),
        "filterName": long("filter ✓ ", 'f', 512),
        "filterPattern": long("{ $.level = \"ERROR\" } ", ' ', 1024),
        "destinationArn": format!("arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{}", long("", 's', 128)),
        "roleArn": format!("arn:aws:iam::{ACCOUNT}:role/logs"),
        "distribution": "Random",
        "fieldSelectionCriteria": long("@aws.region NOT IN [\"cn-north-1\"] ", ' ', 2000),
        "emitSystemFields": ["@aws.account", "@aws.region", "@source.log"],
    });

    // A metric filter at its limits: the longest names and pattern, 2 dimensions with the
    // longest names plus both system field dimensions would be 4, so 1 plus both make the 3
    // allowed; 50 tests with the longest events.
    let metric_filter = json!({
        "logGroupName": long("/aws/lambda/#._-", 'g', 512),
        "filterName": long("filter ✓ ", 'f', 512),
        "filterPattern": long("{ $.level = \"ERROR\" } ", ' ', 1024),
        "metricTransformations": [{
            "metricName": long("Errors ✓ ", 'm', 255),
            "metricNamespace": long("Checkout/", 'n', 255),
            "metricValue": long("$.", 'v', 100),
            "dimensions": { long("Dim", 'd', 255): long("$.", 'f', 255) },
            "unit": "Count/Second",
        }],
        "applyOnTransformedLogs": true,
        "fieldSelectionCriteria": long("@aws.region = \"us-east-1\" ", ' ', 2000),
        "emitSystemFieldDimensions": ["@aws.account", "@aws.region"],
        "tests": (0..50)
            .map(|i| json!({"logEvent": long(&format!("{{\"n\":{i}}} "), 'e', 4096), "value": i}))
            .collect::<Vec<_>>(),
    });
    // Three dimensions and a default value, no system field dimensions.
    let metric_filter_dimensions = json!({
        "logGroupName": "/app/orders",
        "filterPattern": "[ip, user, status, bytes]",
        "metricTransformations": [{
            "metricName": "Bytes",
            "metricNamespace": "Orders",
            "metricValue": "$bytes",
            "defaultValue": -1.5e300,
            "dimensions": {"Status": "$status", "User": "$user", "Ip": "$ip"},
        }],
        "tests": [{"logEvent": "1.2.3.4 alice 200 512", "value": 512}, {"logEvent": "-", "noMatch": true}],
    });
    let destination = json!({
        "destinationName": long("central ✓ ", 'd', 512),
        "targetArn": format!("arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{}", long("", 's', 128)),
        "roleArn": format!("arn:aws:iam::{ACCOUNT}:role/logs"),
        "senderAccountIds": (0..100).map(|i| format!("{:012}", 100_000_000_000u64 + i)).collect::<Vec<_>>(),
        "tags": logs_tags(),
    });
    let destination_policy = json!({
        "targetArn": format!("arn:aws:firehose:us-east-1:{ACCOUNT}:deliverystream/central"),
        "roleArn": format!("arn:aws:iam::{ACCOUNT}:role/logs"),
        "accessPolicy": long("{\"Version\":\"2012-10-17\",\"Statement\":[]} ", ' ', 5120),
    });

    let rule_at_limits = json!({
        "ruleName": long("Rule-", 'r', 32),
        "resourceArn": long("arn:aws:ecs:*", '*', 500),
        "priority": 9999,
        "fixedRate": 1,
        "reservoirSize": i32::MAX,
        "serviceName": long("svc", 's', 64),
        "serviceType": long("AWS::ECS::", 'C', 64),
        "host": long("*.example.", 'h', 64),
        "httpMethod": long("GET", '*', 10),
        "urlPath": long("/api/", 'p', 128),
        "version": 1,
        "attributes": (0..5)
            .map(|i| (long(&format!("attr{i}"), 'k', 32), Value::from(long("*?", 'v', 32))))
            .collect::<serde_json::Map<_, _>>(),
        "samplingRateBoost": {"maxRate": 1, "cooldownWindowMinutes": i32::MAX},
        "tags": xray_tags(),
    });

    vec![
        (
            "Alarm with every list at its limit",
            object("Alarm", "alarm-limits", alarm_at_limits),
        ),
        (
            "Alarm with the longest metadata.name",
            object("Alarm", &longest, single_metric()),
        ),
        (
            "Alarm on metric math at its limits",
            object("Alarm", "alarm-math", metric_math),
        ),
        (
            "Alarm on an anomaly band with EC2 and SNS actions",
            object("Alarm", "alarm-band", anomaly_band),
        ),
        (
            "CompositeAlarm with 100 conditions and every list at its limit",
            object("CompositeAlarm", "composite-limits", composite_at_limits),
        ),
        (
            "CompositeAlarm with atLeast down to the fourth level over 100 Alarm objects",
            object(
                "CompositeAlarm",
                "composite-at-least-levels",
                composite_at_least_levels,
            ),
        ),
        (
            "CompositeAlarm with atLeast counting 100 over both lists",
            object(
                "CompositeAlarm",
                "composite-at-least-both",
                composite_at_least_both_lists,
            ),
        ),
        (
            "CompositeAlarm with atLeast over 100 of the longest alarm ARNs",
            object(
                "CompositeAlarm",
                "composite-at-least-arns",
                composite_at_least_arns,
            ),
        ),
        (
            "CompositeAlarm with the longest alarmRule and metadata.name",
            object("CompositeAlarm", &longest, composite_longest_rule),
        ),
        (
            "MetricStream including 1 namespace and 999 metric names",
            object("MetricStream", "stream-include", include_1000),
        ),
        (
            "MetricStream excluding 1000 namespaces, with the longest metadata.name",
            object("MetricStream", &longest, exclude_1000),
        ),
        (
            "MetricStream with 100 statistics configurations",
            object("MetricStream", "stream-statistics", statistics_100),
        ),
        (
            "MetricStream in OpenTelemetry with 100 metrics and 20 percentiles",
            object("MetricStream", "stream-otel", opentelemetry),
        ),
        (
            "LogSubscription with the longest names, pattern and criteria",
            object("LogSubscription", &longest, subscription),
        ),
        (
            "MetricFilter with the longest names, pattern and criteria, and 50 tests",
            object("MetricFilter", &longest, metric_filter),
        ),
        (
            "MetricFilter with 3 dimensions and a default value",
            object(
                "MetricFilter",
                "filter-dimensions",
                metric_filter_dimensions,
            ),
        ),
        (
            "LogDestination with the longest name, 100 senders and 48 tags",
            object("LogDestination", &longest, destination),
        ),
        (
            "LogDestination with the longest access policy",
            object("LogDestination", "destination-policy", destination_policy),
        ),
        (
            "SamplingRule with every field at its limit",
            object("SamplingRule", "rule-limits", rule_at_limits),
        ),
        (
            "SamplingRule named by the longest metadata.name X-Ray takes",
            object(
                "SamplingRule",
                &long("rule-", 'r', 32),
                json!({"priority": 1, "fixedRate": 0, "reservoirSize": 0}),
            ),
        ),
    ]
}

/// The object parses into the operator's type for its kind, losing no field.
fn parses_into_the_operators_type(object: &Value) -> Result<()> {
    fn round_trip<K: serde::de::DeserializeOwned + serde::Serialize>(v: &Value) -> Result<Value> {
        Ok(serde_json::to_value(serde_json::from_value::<K>(
            v.clone(),
        )?)?)
    }
    let parsed = match object["kind"].as_str() {
        Some("Alarm") => round_trip::<Alarm>(object)?,
        Some("CompositeAlarm") => round_trip::<CompositeAlarm>(object)?,
        Some("MetricStream") => round_trip::<MetricStream>(object)?,
        Some("LogSubscription") => round_trip::<LogSubscription>(object)?,
        Some("SamplingRule") => round_trip::<SamplingRule>(object)?,
        Some("MetricFilter") => round_trip::<MetricFilter>(object)?,
        Some("LogDestination") => round_trip::<LogDestination>(object)?,
        other => bail!("unexpected kind {other:?}"),
    };
    contained_in(&object["spec"], &parsed["spec"], "spec")
        .map_err(|field| anyhow::anyhow!("{field} changed on its way through the operator's type"))
}

/// Whether every field of `part` is in `whole` with the same value (numbers compared as
/// numbers); the path of the first that is not.
fn contained_in(part: &Value, whole: &Value, path: &str) -> Result<(), String> {
    match (part, whole) {
        (Value::Object(p), Value::Object(w)) => p.iter().try_for_each(|(k, v)| {
            let here = format!("{path}.{k}");
            w.get(k)
                .ok_or_else(|| here.clone())
                .and_then(|wv| contained_in(v, wv, &here))
        }),
        (Value::Array(p), Value::Array(w)) if p.len() == w.len() => p
            .iter()
            .zip(w)
            .enumerate()
            .try_for_each(|(i, (pv, wv))| contained_in(pv, wv, &format!("{path}[{i}]"))),
        (Value::Number(p), Value::Number(w)) if p.as_f64() == w.as_f64() => Ok(()),
        _ if part == whole => Ok(()),
        _ => Err(path.to_owned()),
    }
}

#[test]
fn objects_at_every_limit_are_accepted_and_parse_into_the_operators_types() {
    corpus::installed_crds(&repo_root().join("crds")).unwrap();
    let bed = bed();
    let ns = TestNamespace::create(bed, "cwo-e2e-extremes").unwrap();
    let cases = cases();
    let mut failures = Vec::new();
    for (what, object) in &cases {
        let manifest = serde_json::to_string(object).expect("the manifest serializes");
        let outcome = parses_into_the_operators_type(object)
            .context("the operator's types")
            .and_then(|()| {
                // Server-side: client-side apply copies the whole object into an annotation of
                // at most 256 KiB, which some of these outgrow (docs/metric-stream.md says so).
                bed.kubectl_with_stdin(
                    [
                        "apply",
                        "--server-side",
                        "--field-manager=cwo-e2e",
                        "--dry-run=server",
                        "-n",
                        ns.name(),
                        "-f",
                        "-",
                    ],
                    &manifest,
                )?
                .ok()
                .context("kubectl apply --server-side --dry-run=server")
            });
        match outcome {
            Ok(_) => report(&format!("  ok  {what} accepted ({} bytes)", manifest.len())),
            Err(e) => {
                report(&format!("  FAIL {what}"));
                failures.push(format!("{what}: {e:#}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} refused:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// The status the operator writes at its limits: the longest message it writes (it truncates
/// at 32 KiB), and conditions of other types someone else set, with the longest reason and type
/// `metav1.Condition` allows, are accepted through the status subresource.
#[test]
fn a_status_at_the_condition_limits_is_accepted() {
    corpus::installed_crds(&repo_root().join("crds")).unwrap();
    let bed = bed();
    let ns = TestNamespace::create(bed, "cwo-e2e-status-extremes").unwrap();
    let alarm = object(
        "Alarm",
        "status-limits",
        json!({
            "namespace": "AWS/EC2", "metricName": "CPUUtilization", "statistic": "Average",
            "period": 300, "evaluationPeriods": 3, "comparisonOperator": "GreaterThanThreshold",
            "threshold": 80,
        }),
    );
    bed.kubectl_with_stdin(["apply", "-n", ns.name(), "-f", "-"], &alarm.to_string())
        .unwrap()
        .ok()
        .unwrap();
    let time = "2026-01-01T00:00:00Z";
    let status = json!({
        "apiVersion": "cwo.dev/v1alpha1",
        "kind": "Alarm",
        "metadata": {"name": "status-limits"},
        "status": {
            "observedGeneration": 0,
            "conditions": [
                {"type": "Ready", "status": "False", "reason": "InvalidSpec",
                 "message": long("", 'é', 32768), "observedGeneration": 0,
                 "lastTransitionTime": time},
                {"type": "Synced", "status": "Unknown", "reason": "A", "message": "",
                 "lastTransitionTime": time},
                {"type": format!("{}/{}", long("example.", 'd', 253), long("C", 'c', 62)),
                 "status": "True", "reason": long("Reason_,:", 'r', 1024), "message": "",
                 "lastTransitionTime": time},
            ],
        },
    });
    let out = bed
        .kubectl_with_stdin(
            [
                "apply",
                "--server-side",
                "--field-manager=cwo-e2e-status",
                "--subresource=status",
                "-n",
                ns.name(),
                "-f",
                "-",
            ],
            &status.to_string(),
        )
        .unwrap();
    assert!(out.success(), "{out}");
}
