//! Many clients at once: no lost writes, consistent counts.

mod common;

use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic, Tag};
use common::{ACCOUNT, Clients, REGION};

const CLIENTS: usize = 16;
const ALARMS_PER_CLIENT: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_clients_lose_no_writes() {
    let (emulator, _) = common::start().await;
    let endpoint = emulator.endpoint();
    let clients = Clients::new(&endpoint, REGION, "AKIDTESTEXAMPLE").await;
    put_shared_alarm(&clients).await;
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let endpoint = endpoint.clone();
        tasks.push(tokio::spawn(async move {
            let clients = Clients::new(&endpoint, REGION, "AKIDTESTEXAMPLE").await;
            for i in 0..ALARMS_PER_CLIENT {
                clients
                    .cloudwatch
                    .put_metric_alarm()
                    .alarm_name(format!("c{c:02}-a{i:03}"))
                    .namespace("N")
                    .metric_name("M")
                    .statistic(Statistic::Sum)
                    .period(60)
                    .evaluation_periods(1)
                    .threshold(i as f64)
                    .comparison_operator(ComparisonOperator::GreaterThanThreshold)
                    .send()
                    .await
                    .unwrap();
                clients
                    .cloudwatch
                    .describe_alarms()
                    .alarm_names(format!("c{c:02}-a{i:03}"))
                    .send()
                    .await
                    .unwrap();
            }
            // Every client adds its own tags to one shared alarm.
            let arn = format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:shared");
            for t in 0..3 {
                clients
                    .cloudwatch
                    .tag_resource()
                    .resource_arn(&arn)
                    .tags(
                        Tag::builder()
                            .key(format!("client{c:02}-{t}"))
                            .value("v")
                            .build(),
                    )
                    .send()
                    .await
                    .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut names = Vec::new();
    let mut pages = clients
        .cloudwatch
        .describe_alarms()
        .max_records(100)
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
    assert_eq!(names.len(), CLIENTS * ALARMS_PER_CLIENT + 1);
    let arn = format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:shared");
    let tags = clients
        .cloudwatch
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags().len(),
        CLIENTS * 3,
        "every concurrent TagResource landed"
    );

    let calls = emulator.calls();
    let puts = calls.operation("cloudwatch", "PutMetricAlarm");
    let expected = (CLIENTS * ALARMS_PER_CLIENT + 1) as u64;
    assert_eq!((puts.total, puts.ok), (expected, expected));
    assert_eq!(
        calls.total_of("cloudwatch", "TagResource"),
        (CLIENTS * 3) as u64
    );
}

async fn put_shared_alarm(clients: &Clients) {
    clients
        .cloudwatch
        .put_metric_alarm()
        .alarm_name("shared")
        .namespace("N")
        .metric_name("M")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap();
}
