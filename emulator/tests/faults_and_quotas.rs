//! Fault injection, AWS default quotas and the admin API.

mod common;

use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use aws_sdk_xray::operation::get_sampling_rules::GetSamplingRulesError;
use common::{admin, clients_without_retries, error_code};
use cwo_emulator::{EmulatorConfig, FaultSettings, QuotaSettings};

fn put_alarm(
    cw: &aws_sdk_cloudwatch::Client,
    name: &str,
) -> aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder {
    cw.put_metric_alarm()
        .alarm_name(name)
        .namespace("N")
        .metric_name("M")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
}

#[tokio::test]
async fn default_quotas_throttle_bursts_with_each_services_error() {
    let config = EmulatorConfig {
        quotas_enabled: true,
        ..Default::default()
    };
    let (emulator, _) = common::start_with(config).await;
    let clients = clients_without_retries(&emulator.endpoint()).await;
    let mut codes = Vec::new();
    for i in 0..6 {
        codes.push(
            match put_alarm(&clients.cloudwatch, &format!("a{i}"))
                .send()
                .await
            {
                Ok(_) => "ok".to_string(),
                Err(e) => error_code(&e),
            },
        );
    }
    // A burst gets the bucket's 3 tokens (3 TPS), then throttling; a slow machine may refill
    // a token mid-burst, so only the shape is asserted.
    assert_eq!(codes[..3], ["ok", "ok", "ok"]);
    assert!(
        codes[3..].iter().all(|c| c == "ok" || c == "Throttling"),
        "{codes:?}"
    );
    let throttled = codes.iter().filter(|c| *c == "Throttling").count() as u64;
    assert!(throttled >= 2, "{codes:?}");
    let calls = emulator.calls().operation("cloudwatch", "PutMetricAlarm");
    assert_eq!(
        (calls.total, calls.ok, calls.throttled, calls.injected),
        (6, 6 - throttled, throttled, 0)
    );
    assert_eq!(calls.errors.get("Throttling"), Some(&throttled));

    let logs = &clients.logs;
    logs.create_log_group()
        .log_group_name("g")
        .send()
        .await
        .unwrap();
    let mut throttled = 0;
    for _ in 0..10 {
        if let Err(e) = logs
            .describe_subscription_filters()
            .log_group_name("g")
            .send()
            .await
        {
            assert_eq!(error_code(&e), "ThrottlingException");
            throttled += 1;
        }
    }
    assert!(
        (3..=5).contains(&throttled),
        "5 TPS: {throttled} of 10 throttled"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    put_alarm(&clients.cloudwatch, "after-a-second")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn quota_overrides_apply_per_operation_and_can_be_changed_at_run_time() {
    let (emulator, _) = common::start().await;
    let clients = clients_without_retries(&emulator.endpoint()).await;
    for i in 0..10 {
        put_alarm(&clients.cloudwatch, &format!("a{i}"))
            .send()
            .await
            .unwrap();
    }
    emulator.set_quotas(QuotaSettings {
        enabled: false,
        overrides: [("GetSamplingRules".to_string(), 1.0)].into(),
    });
    clients.xray.get_sampling_rules().send().await.unwrap();
    let err = clients.xray.get_sampling_rules().send().await.unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(429));
    assert!(matches!(
        err.into_service_error(),
        GetSamplingRulesError::ThrottledException(_)
    ));

    let (status, body) = admin(
        &emulator.endpoint(),
        "PUT",
        "/_emulator/quotas",
        Some(r#"{"enabled": true, "overrides": {"cloudwatch:DescribeAlarms": 0}}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let view: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(view["effective"]["cloudwatch:PutMetricAlarm"], 3.0);
    assert!(
        view["effective"].get("cloudwatch:DescribeAlarms").is_none(),
        "0 removes the limit"
    );
    for _ in 0..20 {
        clients.cloudwatch.describe_alarms().send().await.unwrap();
    }
}

#[tokio::test]
async fn injected_faults_answer_throttling_5xx_and_latency() {
    let (emulator, _) = common::start().await;
    let clients = clients_without_retries(&emulator.endpoint()).await;
    emulator
        .set_faults(FaultSettings {
            throttle_rate: 1.0,
            ..Default::default()
        })
        .unwrap();
    let err = put_alarm(&clients.cloudwatch, "a")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "Throttling");
    let err = clients.xray.get_sampling_rules().send().await.unwrap_err();
    assert_eq!(error_code(&err), "ThrottledException");

    emulator
        .set_faults(FaultSettings {
            internal_error_rate: 1.0,
            operations: vec!["cloudwatch:DescribeAlarms".into()],
            ..Default::default()
        })
        .unwrap();
    let err = clients
        .cloudwatch
        .describe_alarms()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
    assert_eq!(error_code(&err), "InternalServiceError");
    put_alarm(&clients.cloudwatch, "unaffected")
        .send()
        .await
        .unwrap();

    emulator
        .set_faults(FaultSettings {
            unavailable_rate: 1.0,
            ..Default::default()
        })
        .unwrap();
    let err = clients.logs.describe_log_groups().send().await.unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(503));
    assert!(err.into_service_error().is_service_unavailable_exception());

    emulator
        .set_faults(FaultSettings {
            latency_rate: 1.0,
            latency_ms: 200,
            ..Default::default()
        })
        .unwrap();
    let started = Instant::now();
    clients
        .firehose
        .list_delivery_streams()
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));

    let calls = emulator.calls();
    let put = calls.operation("cloudwatch", "PutMetricAlarm");
    assert_eq!(
        (put.total, put.ok, put.throttled, put.injected),
        (2, 1, 1, 1)
    );
    let describe = calls.operation("cloudwatch", "DescribeAlarms");
    assert_eq!(describe.errors.get("InternalServiceError"), Some(&1));
    assert!(
        emulator
            .set_faults(FaultSettings {
                throttle_rate: 2.0,
                ..Default::default()
            })
            .is_err()
    );
}

#[tokio::test]
async fn sdk_retries_ride_out_a_partial_fault_rate() {
    let config = EmulatorConfig {
        faults: FaultSettings {
            unavailable_rate: 0.3,
            ..Default::default()
        },
        ..Default::default()
    };
    let (emulator, _) = common::start_with(config).await;
    // The standard retry mode (3 attempts) with a short backoff to keep the test quick.
    let sdk = common::sdk_config(&emulator.endpoint(), common::REGION, "AKIDTESTEXAMPLE")
        .await
        .into_builder()
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_initial_backoff(Duration::from_millis(5))
                .with_max_backoff(Duration::from_millis(20)),
        )
        .build();
    let clients = common::Clients::from_config(&sdk);
    let mut succeeded = 0;
    for i in 0..40 {
        if put_alarm(&clients.cloudwatch, &format!("a{i}"))
            .send()
            .await
            .is_ok()
        {
            succeeded += 1;
        }
    }
    let calls = emulator.calls().operation("cloudwatch", "PutMetricAlarm");
    assert!(
        succeeded >= 30,
        "the standard retry mode absorbs most 503s ({succeeded}/40)"
    );
    assert!(calls.total > 40, "retries reach the emulator: {calls:?}");
    assert_eq!(calls.ok, succeeded);
}

#[tokio::test]
async fn admin_api_reports_calls_resets_and_sets_faults() {
    let (emulator, clients) = common::start().await;
    let endpoint = emulator.endpoint();
    put_alarm(&clients.cloudwatch, "a").send().await.unwrap();
    let _ = clients
        .cloudwatch
        .describe_alarms()
        .max_records(500)
        .send()
        .await;

    let (status, body) = admin(&endpoint, "GET", "/_emulator/calls", None).await;
    assert_eq!(status, 200);
    let calls: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(calls["cloudwatch"]["PutMetricAlarm"]["total"], 1);
    assert_eq!(calls["cloudwatch"]["PutMetricAlarm"]["ok"], 1);
    assert_eq!(
        calls["cloudwatch"]["DescribeAlarms"]["errors"]["ValidationError"],
        1
    );
    assert_eq!(calls["cloudwatch"]["DescribeAlarms"]["throttled"], 0);

    assert_eq!(
        admin(&endpoint, "POST", "/_emulator/calls/reset", None)
            .await
            .0,
        204
    );
    assert_eq!(emulator.calls().total(), 0);

    assert_eq!(
        admin(&endpoint, "POST", "/_emulator/reset", None).await.0,
        204
    );
    assert!(
        clients
            .cloudwatch
            .describe_alarms()
            .send()
            .await
            .unwrap()
            .metric_alarms()
            .is_empty()
    );

    let (status, body) = admin(
        &endpoint,
        "PUT",
        "/_emulator/faults",
        Some(r#"{"throttle_rate": 0.25, "operations": ["PutMetricAlarm"]}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(emulator.faults().throttle_rate, 0.25);
    let (status, body) = admin(&endpoint, "GET", "/_emulator/faults", None).await;
    assert_eq!(status, 200);
    assert!(body.contains("\"throttle_rate\":0.25"), "{body}");
    let (status, _) = admin(
        &endpoint,
        "PUT",
        "/_emulator/faults",
        Some(r#"{"throttle_rate": 3}"#),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = admin(
        &endpoint,
        "PUT",
        "/_emulator/faults",
        Some(r#"{"unknown": 1}"#),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        admin(&endpoint, "GET", "/_emulator/health", None).await,
        (200, "ok".to_string())
    );
    assert_eq!(
        admin(&endpoint, "POST", "/_emulator/save", None).await.0,
        409
    );
}

#[tokio::test]
async fn the_journal_lists_each_write_that_named_a_resource_in_order() {
    let config = EmulatorConfig {
        journal_capacity: 100,
        faults: FaultSettings {
            internal_error_rate: 1.0,
            operations: vec!["DeleteAlarms".into()],
            ..Default::default()
        },
        ..Default::default()
    };
    let (emulator, clients) = common::start_with(config).await;
    let endpoint = emulator.endpoint();
    put_alarm(&clients.cloudwatch, "journal-a")
        .send()
        .await
        .unwrap();
    put_alarm(&clients.cloudwatch, "journal-b")
        .send()
        .await
        .unwrap();
    let _ = clients
        .cloudwatch
        .describe_alarms()
        .alarm_names("journal-a")
        .send()
        .await
        .unwrap();
    let refused = clients
        .cloudwatch
        .delete_alarms()
        .alarm_names("journal-a")
        .send()
        .await;
    assert!(refused.is_err(), "the injected fault answers the delete");

    let entries = emulator.journal("journal-a");
    let seen: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.operation.as_str(), e.outcome.as_str()))
        .collect();
    // The SDK retries the 500 (three attempts): each attempt is a call.
    assert_eq!(
        seen,
        [
            ("PutMetricAlarm", "ok"),
            ("DeleteAlarms", "InternalServiceError (injected)"),
            ("DeleteAlarms", "InternalServiceError (injected)"),
            ("DeleteAlarms", "InternalServiceError (injected)"),
        ],
        "writes only, in order, with their outcome: {entries:?}"
    );
    assert_eq!(emulator.journal("").len(), 5, "every write, reads left out");
    assert!(entries[0].at_millis <= entries[1].at_millis);

    let (status, body) = admin(
        &endpoint,
        "GET",
        "/_emulator/journal?contains=journal-b",
        None,
    )
    .await;
    assert_eq!(status, 200);
    let listed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(listed[0]["operation"], "PutMetricAlarm");
    assert_eq!(listed[0]["account"], "123456789012");

    let (off, clients) = common::start().await;
    put_alarm(&clients.cloudwatch, "journal-c")
        .send()
        .await
        .unwrap();
    assert!(off.journal("").is_empty(), "off unless given a capacity");
}
