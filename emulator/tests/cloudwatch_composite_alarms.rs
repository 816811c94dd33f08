//! Composite alarms through the real aws-sdk-cloudwatch client.

mod common;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{AlarmType, ComparisonOperator, StateValue, Statistic, Tag};
use common::{ACCOUNT, REGION, error_code, error_message};

async fn metric_alarm(cw: &Client, name: &str) {
    cw.put_metric_alarm()
        .alarm_name(name)
        .namespace("App")
        .metric_name("Errors")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .send()
        .await
        .unwrap();
}

async fn composite(cw: &Client, name: &str, rule: &str) -> Result<(), String> {
    cw.put_composite_alarm()
        .alarm_name(name)
        .alarm_rule(rule)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("{}: {}", error_code(&e), error_message(&e)))
}

async fn composite_state(cw: &Client, name: &str) -> StateValue {
    let out = cw
        .describe_alarms()
        .alarm_names(name)
        .alarm_types(AlarmType::CompositeAlarm)
        .send()
        .await
        .unwrap();
    out.composite_alarms()[0].state_value().unwrap().clone()
}

async fn fire(cw: &Client, name: &str, state: StateValue) {
    cw.set_alarm_state()
        .alarm_name(name)
        .state_value(state)
        .state_reason("test")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn composite_alarm_is_described_only_when_composite_type_is_requested() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    metric_alarm(cw, "errors").await;
    cw.put_composite_alarm()
        .alarm_name("service-down")
        .alarm_rule("ALARM(errors)")
        .alarm_description("composite")
        .alarm_actions("arn:aws:sns:us-east-1:123456789012:ops")
        .tags(Tag::builder().key("owner").value("me").build())
        .send()
        .await
        .unwrap();
    let default = cw
        .describe_alarms()
        .alarm_names("service-down")
        .send()
        .await
        .unwrap();
    assert!(
        default.composite_alarms().is_empty(),
        "without AlarmTypes only metric alarms"
    );
    let out = cw
        .describe_alarms()
        .alarm_names("service-down")
        .alarm_types(AlarmType::CompositeAlarm)
        .send()
        .await
        .unwrap();
    let alarm = &out.composite_alarms()[0];
    assert_eq!(alarm.alarm_rule(), Some("ALARM(errors)"));
    assert_eq!(alarm.alarm_description(), Some("composite"));
    assert_eq!(
        alarm.alarm_arn(),
        Some(format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:service-down").as_str())
    );
    let both = cw
        .describe_alarms()
        .alarm_types(AlarmType::CompositeAlarm)
        .alarm_types(AlarmType::MetricAlarm)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (both.metric_alarms().len(), both.composite_alarms().len()),
        (1, 1)
    );
}

#[tokio::test]
async fn composite_rules_are_parsed_and_children_must_exist() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    metric_alarm(cw, "a").await;
    let err = composite(cw, "c", "ALARM(a) OR ALARM(\"missing\")")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        "ValidationError: Could not save the composite alarm as alarms [missing] in the alarm rule do not exist"
    );
    let err = composite(cw, "c", "()").await.unwrap_err();
    assert_eq!(
        err,
        "ValidationError: Error in AlarmRule [Unsupported token ')' at char 1]"
    );
    let err = composite(cw, "c", "ALARM(a) ANDD ALARM(a)")
        .await
        .unwrap_err();
    assert!(
        err.starts_with("ValidationError: Error in AlarmRule"),
        "{err}"
    );

    let arn = format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:a");
    composite(
        cw,
        "by-arn",
        &format!("ALARM(\"{arn}\") AND NOT OK(a) OR TRUE"),
    )
    .await
    .unwrap();
    let children = cw
        .describe_alarms()
        .children_of_alarm_name("by-arn")
        .send()
        .await
        .unwrap();
    let names: Vec<_> = children
        .metric_alarms()
        .iter()
        .filter_map(|a| a.alarm_name())
        .collect();
    assert_eq!(names, ["a"]);
}

#[tokio::test]
async fn composite_rules_are_limited_to_100_children_and_10240_characters() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    for i in 0..101 {
        metric_alarm(cw, &format!("child-{i:03}")).await;
    }
    let rule = |n: usize| {
        (0..n)
            .map(|i| format!("ALARM(child-{i:03})"))
            .collect::<Vec<_>>()
            .join(" OR ")
    };
    composite(cw, "hundred", &rule(100)).await.unwrap();
    let err = composite(cw, "hundred-one", &rule(101)).await.unwrap_err();
    assert!(err.contains("at most 100 alarms"), "{err}");

    let long = format!("ALARM(child-000) OR {}", vec!["TRUE"; 2100].join(" OR "));
    assert!(long.len() > 10240);
    let err = composite(cw, "long", &long).await.unwrap_err();
    assert!(
        err.contains("Member must have length less than or equal to 10240"),
        "{err}"
    );
}

#[tokio::test]
async fn composite_state_follows_its_children() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    metric_alarm(cw, "cpu").await;
    metric_alarm(cw, "deploying").await;
    composite(cw, "page", "ALARM(cpu) AND NOT ALARM(deploying)")
        .await
        .unwrap();
    composite(cw, "top", "ALARM(page)").await.unwrap();
    assert_eq!(composite_state(cw, "page").await, StateValue::Ok);
    fire(cw, "cpu", StateValue::Alarm).await;
    assert_eq!(composite_state(cw, "page").await, StateValue::Alarm);
    assert_eq!(
        composite_state(cw, "top").await,
        StateValue::Alarm,
        "propagates upwards"
    );
    fire(cw, "deploying", StateValue::Alarm).await;
    assert_eq!(composite_state(cw, "page").await, StateValue::Ok);
}

#[tokio::test]
async fn children_and_parents_walks_return_the_reduced_views() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    metric_alarm(cw, "m1").await;
    metric_alarm(cw, "m2").await;
    composite(cw, "inner", "ALARM(m1)").await.unwrap();
    composite(cw, "outer", "ALARM(inner) OR ALARM(m2)")
        .await
        .unwrap();

    let children = cw
        .describe_alarms()
        .children_of_alarm_name("outer")
        .send()
        .await
        .unwrap();
    let metric: Vec<_> = children
        .metric_alarms()
        .iter()
        .filter_map(|a| a.alarm_name())
        .collect();
    let composites: Vec<_> = children
        .composite_alarms()
        .iter()
        .filter_map(|a| a.alarm_name())
        .collect();
    assert_eq!((metric, composites), (vec!["m2"], vec!["inner"]));
    let child = &children.metric_alarms()[0];
    assert!(child.state_value().is_some() && child.alarm_arn().is_some());
    assert!(
        child.metric_name().is_none(),
        "only name, ARN and state come back"
    );

    let parents = cw
        .describe_alarms()
        .parents_of_alarm_name("m1")
        .send()
        .await
        .unwrap();
    let names: Vec<_> = parents
        .composite_alarms()
        .iter()
        .filter_map(|a| a.alarm_name())
        .collect();
    assert_eq!(names, ["inner"]);
    assert!(
        parents.composite_alarms()[0].state_value().is_none(),
        "parents: name and ARN only"
    );

    let err = cw
        .describe_alarms()
        .parents_of_alarm_name("m1")
        .state_value(StateValue::Ok)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ValidationError");
}

#[tokio::test]
async fn delete_alarms_refuses_children_in_use_and_two_composites() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    metric_alarm(cw, "child").await;
    composite(cw, "p1", "ALARM(child)").await.unwrap();
    composite(cw, "p2", "ALARM(child)").await.unwrap();

    let err = cw
        .delete_alarms()
        .alarm_names("child")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ValidationError");
    assert!(
        error_message(&err).contains("p1, p2"),
        "{}",
        error_message(&err)
    );
    let err = cw
        .delete_alarms()
        .alarm_names("p1")
        .alarm_names("p2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ValidationError");
    let still = cw
        .describe_alarms()
        .alarm_names("child")
        .send()
        .await
        .unwrap();
    assert_eq!(
        still.metric_alarms().len(),
        1,
        "a refused delete deletes nothing"
    );

    cw.delete_alarms().alarm_names("p1").send().await.unwrap();
    // The last parent and its child can go in one call.
    cw.delete_alarms()
        .alarm_names("p2")
        .alarm_names("child")
        .send()
        .await
        .unwrap();
    let left = cw
        .describe_alarms()
        .alarm_types(AlarmType::CompositeAlarm)
        .alarm_types(AlarmType::MetricAlarm)
        .send()
        .await
        .unwrap();
    assert!(left.metric_alarms().is_empty() && left.composite_alarms().is_empty());
}

#[tokio::test]
async fn composite_cycles_are_accepted_and_block_deletion_until_a_rule_changes() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    metric_alarm(cw, "m").await;
    composite(cw, "a", "ALARM(m)").await.unwrap();
    composite(cw, "b", "ALARM(a)").await.unwrap();
    composite(cw, "a", "ALARM(b)").await.unwrap();
    assert!(cw.delete_alarms().alarm_names("a").send().await.is_err());
    assert!(cw.delete_alarms().alarm_names("b").send().await.is_err());
    composite(cw, "a", "FALSE").await.unwrap();
    cw.delete_alarms().alarm_names("b").send().await.unwrap();
    cw.delete_alarms().alarm_names("a").send().await.unwrap();
}

#[tokio::test]
async fn put_composite_alarm_update_keeps_state_and_ignores_tags() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    metric_alarm(cw, "m").await;
    cw.put_composite_alarm()
        .alarm_name("c")
        .alarm_rule("ALARM(m)")
        .tags(Tag::builder().key("k").value("create").build())
        .send()
        .await
        .unwrap();
    fire(cw, "c", StateValue::Alarm).await;
    cw.put_composite_alarm()
        .alarm_name("c")
        .alarm_rule("ALARM(m) OR OK(m)")
        .tags(Tag::builder().key("k").value("update").build())
        .send()
        .await
        .unwrap();
    let arn = format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:c");
    let tags = cw
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags()[0].value(), Some("create"));
    let out = cw
        .describe_alarms()
        .alarm_names("c")
        .alarm_types(AlarmType::CompositeAlarm)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.composite_alarms()[0].alarm_rule(),
        Some("ALARM(m) OR OK(m)")
    );

    let err = cw
        .put_composite_alarm()
        .alarm_name("suppressed")
        .alarm_rule("ALARM(m)")
        .actions_suppressor("m")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterCombination");
    let err = cw
        .put_composite_alarm()
        .alarm_name("ec2-action")
        .alarm_rule("ALARM(m)")
        .alarm_actions("arn:aws:automate:us-east-1:ec2:stop")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ValidationError");
    let err = cw
        .put_composite_alarm()
        .alarm_name("m")
        .alarm_rule("TRUE")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_code(&err),
        "ValidationError",
        "names are shared with metric alarms"
    );
}

#[tokio::test]
async fn a_bare_alarm_name_ends_at_whitespace_as_aws_parses_it() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    metric_alarm(cw, "My Alarm").await;
    let err = composite(cw, "c", "ALARM(My Alarm)").await.unwrap_err();
    assert_eq!(
        err,
        "ValidationError: Error in AlarmRule [Unsupported token 'Alarm' at char 9, must be: ')']"
    );
    composite(cw, "c", "ALARM(\"My Alarm\")").await.unwrap();
}

#[tokio::test]
async fn at_least_rules_are_accepted_checked_and_evaluated() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    for name in ["disk-1", "disk-2", "disk-3"] {
        metric_alarm(cw, name).await;
    }
    let arn = format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:disk-3");
    composite(
        cw,
        "two-disks",
        &format!("AT_LEAST(2, ALARM, (disk-1, \"disk-2\", {arn}))"),
    )
    .await
    .unwrap();
    composite(
        cw,
        "most-disks",
        "AT_LEAST(60%, NOT OK, (disk-1, disk-2, disk-3))",
    )
    .await
    .unwrap();
    let children = cw
        .describe_alarms()
        .children_of_alarm_name("two-disks")
        .send()
        .await
        .unwrap();
    assert_eq!(children.metric_alarms().len(), 3);
    fire(cw, "disk-1", StateValue::Alarm).await;
    assert_eq!(composite_state(cw, "two-disks").await, StateValue::Ok);
    assert_eq!(
        composite_state(cw, "most-disks").await,
        StateValue::Alarm,
        "2 of 3 not OK"
    );
    fire(cw, "disk-3", StateValue::Alarm).await;
    assert_eq!(composite_state(cw, "two-disks").await, StateValue::Alarm);

    for (rule, message) in [
        (
            "AT_LEAST(4, ALARM, (disk-1, disk-2, disk-3))",
            "The AT_LEAST count must be from 1 to the number of alarms (3) at char 9",
        ),
        (
            "AT_LEAST(0%, ALARM, (disk-1))",
            "The AT_LEAST percentage must be from 1% to 100% at char 9",
        ),
        (
            "AT_LEAST(1, BROKEN, (disk-1))",
            "Unsupported token 'BROKEN' at char 12, must be: ALARM, OK or INSUFFICIENT_DATA",
        ),
        (
            "AT_LEAST(1, ALARM, disk-1)",
            "Unsupported token 'disk' at char 19, must be: '('",
        ),
    ] {
        let err = composite(cw, "bad", rule).await.unwrap_err();
        assert_eq!(
            err,
            format!("ValidationError: Error in AlarmRule [{message}]"),
            "{rule}"
        );
    }
    let err = composite(cw, "missing-child", "AT_LEAST(1, ALARM, (disk-1, disk-9))")
        .await
        .unwrap_err();
    assert!(
        err.contains("alarms [disk-9] in the alarm rule do not exist"),
        "{err}"
    );
}

#[tokio::test]
async fn composite_action_lists_take_what_the_reference_lists_for_each() {
    let (_emulator, clients) = common::start().await;
    let cw = &clients.cloudwatch;
    metric_alarm(cw, "m").await;
    cw.put_composite_alarm()
        .alarm_name("every-kind")
        .alarm_rule("ALARM(m)")
        .alarm_actions("arn:aws:sns:us-east-1:123456789012:ops")
        .alarm_actions("arn:aws:lambda:us-east-1:123456789012:function:page")
        .alarm_actions("arn:aws:ssm:us-east-1:123456789012:opsitem:2")
        .alarm_actions("arn:aws:ssm-incidents::123456789012:responseplan/web")
        .alarm_actions("arn:aws:aiops:us-east-1:123456789012:investigation-group:abc")
        .ok_actions("arn:aws:sns:us-east-1:123456789012:ops")
        .insufficient_data_actions("arn:aws:lambda:us-east-1:123456789012:function:page")
        .send()
        .await
        .unwrap();
    for (list, arn) in [
        ("OKActions", "arn:aws:ssm:us-east-1:123456789012:opsitem:2"),
        (
            "InsufficientDataActions",
            "arn:aws:aiops:us-east-1:123456789012:investigation-group:abc",
        ),
    ] {
        let request = cw
            .put_composite_alarm()
            .alarm_name("c")
            .alarm_rule("ALARM(m)");
        let request = if list == "OKActions" {
            request.ok_actions(arn)
        } else {
            request.insufficient_data_actions(arn)
        };
        let err = request.send().await.unwrap_err();
        assert_eq!(error_code(&err), "ValidationError");
        assert_eq!(
            error_message(&err),
            format!("The action {arn} is not supported in {list} of composite alarms")
        );
    }
}
