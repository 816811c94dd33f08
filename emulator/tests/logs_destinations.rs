//! Logs destinations (PutDestination, PutDestinationPolicy, DescribeDestinations,
//! DeleteDestination) and subscription filters pointing at them, through the real
//! aws-sdk-cloudwatchlogs client.

mod common;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_firehose::types::ExtendedS3DestinationConfiguration;
use common::{ACCOUNT, REGION, error_code, error_message};

const KINESIS: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/central-logs";
const ROLE: &str = "arn:aws:iam::123456789012:role/CWLtoKinesisRole";

fn policy_for_accounts(accounts: &[&str]) -> String {
    let principals: Vec<String> = accounts.iter().map(|a| format!("\"{a}\"")).collect();
    format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Sid": "", "Effect": "Allow",
            "Principal": {{"AWS": [{}]}}, "Action": "logs:PutSubscriptionFilter",
            "Resource": "arn:aws:logs:{REGION}:{ACCOUNT}:destination:central"}}]}}"#,
        principals.join(", ")
    )
}

const ORGANIZATION_POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "",
    "Effect": "Allow", "Principal": "*", "Action": "logs:PutSubscriptionFilter",
    "Resource": "arn:aws:logs:us-east-1:123456789012:destination:central",
    "Condition": {"StringEquals": {"aws:PrincipalOrgID": ["o-1234567890"]}}}]}"#;

async fn destination(logs: &Client, name: &str) -> String {
    let out = logs
        .put_destination()
        .destination_name(name)
        .target_arn(KINESIS)
        .role_arn(ROLE)
        .send()
        .await
        .unwrap();
    out.destination().unwrap().arn().unwrap().to_string()
}

#[tokio::test]
async fn destinations_are_created_updated_described_and_deleted() {
    let (emulator, clients) = common::start().await;
    let logs = &clients.logs;
    let out = logs
        .put_destination()
        .destination_name("central")
        .target_arn(KINESIS)
        .role_arn(ROLE)
        .tags("team", "platform")
        .send()
        .await
        .unwrap();
    let created = out.destination().unwrap();
    assert_eq!(
        created.arn(),
        Some(format!("arn:aws:logs:{REGION}:{ACCOUNT}:destination:central").as_str())
    );
    assert_eq!(created.target_arn(), Some(KINESIS));
    assert_eq!(created.role_arn(), Some(ROLE));
    assert_eq!(
        created.access_policy(),
        None,
        "no policy until PutDestinationPolicy"
    );
    let creation_time = created.creation_time().unwrap();
    assert!(creation_time > 1_600_000_000_000, "epoch milliseconds");

    let policy = policy_for_accounts(&["111111111111"]);
    logs.put_destination_policy()
        .destination_name("central")
        .access_policy(&policy)
        .send()
        .await
        .unwrap();
    let other_stream = "arn:aws:kinesis:us-east-1:123456789012:stream/other";
    let updated = logs
        .put_destination()
        .destination_name("central")
        .target_arn(other_stream)
        .role_arn(ROLE)
        .send()
        .await
        .unwrap();
    let updated = updated.destination().unwrap();
    assert_eq!(updated.target_arn(), Some(other_stream));
    assert_eq!(
        updated.creation_time(),
        Some(creation_time),
        "an update keeps the creation time"
    );
    assert_eq!(
        updated.access_policy(),
        Some(policy.as_str()),
        "and the policy"
    );

    for name in ["central-eu", "audit"] {
        destination(logs, name).await;
    }
    let names = |out: &aws_sdk_cloudwatchlogs::operation::describe_destinations::DescribeDestinationsOutput| -> Vec<String> {
        out.destinations()
            .iter()
            .map(|d| d.destination_name().unwrap().to_string())
            .collect()
    };
    let all = logs.describe_destinations().send().await.unwrap();
    assert_eq!(names(&all), ["audit", "central", "central-eu"]);
    let prefixed = logs
        .describe_destinations()
        .destination_name_prefix("central")
        .send()
        .await
        .unwrap();
    assert_eq!(names(&prefixed), ["central", "central-eu"]);
    assert_eq!(
        prefixed.destinations()[0].access_policy(),
        Some(policy.as_str())
    );
    let first = logs.describe_destinations().limit(2).send().await.unwrap();
    assert_eq!(names(&first), ["audit", "central"]);
    let rest = logs
        .describe_destinations()
        .limit(2)
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(names(&rest), ["central-eu"]);
    assert!(rest.next_token().is_none());
    let err = logs
        .describe_destinations()
        .next_token("forged")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    let err = logs
        .describe_destinations()
        .limit(0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");

    logs.delete_destination()
        .destination_name("central")
        .send()
        .await
        .unwrap();
    let err = logs
        .delete_destination()
        .destination_name("central")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_resource_not_found_exception());
    assert_eq!(
        names(&logs.describe_destinations().send().await.unwrap()),
        ["audit", "central-eu"]
    );

    let calls = emulator.calls();
    assert_eq!(calls.operation("logs", "PutDestination").ok, 4);
    assert_eq!(calls.operation("logs", "PutDestinationPolicy").ok, 1);
    assert_eq!(calls.operation("logs", "DescribeDestinations").total, 7);
    let deletes = calls.operation("logs", "DeleteDestination");
    assert_eq!(
        (deletes.ok, deletes.errors.get("ResourceNotFoundException")),
        (1, Some(&1))
    );
}

#[tokio::test]
async fn put_destination_refuses_what_aws_refuses() {
    let (_emulator, clients) = common::start().await;
    let logs = &clients.logs;
    let put = |name: &str, target: &str, role: &str| {
        logs.put_destination()
            .destination_name(name)
            .target_arn(target)
            .role_arn(role)
    };
    for (builder, expected) in [
        (
            put("a:b", KINESIS, ROLE),
            "satisfy regular expression pattern: [^:*]*",
        ),
        (
            put(
                "d",
                "arn:aws:lambda:us-east-1:123456789012:function:f",
                ROLE,
            ),
            "a destination delivers to a Kinesis data stream or a Firehose delivery stream",
        ),
        (put("d", "not-an-arn", ROLE), "Invalid targetArn"),
        (put("d", KINESIS, "arn:aws:s3:::bucket"), "Invalid roleArn"),
        (
            put(
                "d",
                &format!("arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/missing"),
                ROLE,
            ),
            "Could not deliver test message to specified Firehose stream",
        ),
        (
            put("d", KINESIS, ROLE).tags("bad!key", "v"),
            "at 'tags.key' failed to satisfy constraint",
        ),
        (
            put(&"d".repeat(513), KINESIS, ROLE),
            "length less than or equal to 512",
        ),
    ] {
        let err = builder.send().await.unwrap_err();
        assert_eq!(error_code(&err), "InvalidParameterException", "{expected}");
        let message = error_message(&err);
        assert!(
            message.contains(expected),
            "{message:?} should contain {expected:?}"
        );
    }
    let firehose = clients
        .firehose
        .create_delivery_stream()
        .delivery_stream_name("central")
        .extended_s3_destination_configuration(
            ExtendedS3DestinationConfiguration::builder()
                .role_arn("arn:aws:iam::123456789012:role/firehose")
                .bucket_arn("arn:aws:s3:::central-logs")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    put("to-firehose", firehose.delivery_stream_arn().unwrap(), ROLE)
        .send()
        .await
        .expect("an ACTIVE Firehose stream is a valid target");
    put(
        &"d".repeat(512),
        "arn:aws:kinesis:eu-west-1:999999999999:stream/elsewhere",
        ROLE,
    )
    .send()
    .await
    .expect("the longest name, and a stream in another account and region");
}

#[tokio::test]
async fn destination_policies_are_checked() {
    let (_emulator, clients) = common::start().await;
    let logs = &clients.logs;
    let put_policy = |policy: &str| {
        logs.put_destination_policy()
            .destination_name("central")
            .access_policy(policy)
    };
    let err = put_policy(&policy_for_accounts(&["111111111111"]))
        .send()
        .await
        .unwrap_err();
    // Not in PutDestinationPolicy's modelled errors; the SDK surfaces it by code.
    assert_eq!(error_code(&err), "ResourceNotFoundException");
    destination(logs, "central").await;

    let too_long = format!(
        "{}{}",
        policy_for_accounts(&["111111111111"]),
        " ".repeat(5121)
    );
    for bad in [
        "not json",
        r#"{"Version": "2012-10-17"}"#,
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:PutSubscriptionFilter", "Resource": "*"}]}"#,
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Permit", "Principal": "*", "Action": "logs:PutSubscriptionFilter", "Resource": "*"}]}"#,
        too_long.as_str(),
    ] {
        let err = put_policy(bad).send().await.unwrap_err();
        assert_eq!(error_code(&err), "InvalidParameterException");
        assert!(
            error_message(&err).starts_with("Invalid access policy: "),
            "{}",
            error_message(&err)
        );
    }

    put_policy(&policy_for_accounts(&["111111111111", "222222222222"]))
        .send()
        .await
        .unwrap();
    let err = put_policy(ORGANIZATION_POLICY).send().await.unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    assert!(error_message(&err).contains("forceUpdate"));
    put_policy(ORGANIZATION_POLICY)
        .force_update(true)
        .send()
        .await
        .expect("forceUpdate affirms the senders were updated");
    put_policy(ORGANIZATION_POLICY)
        .send()
        .await
        .expect("an organization policy replaces another without forceUpdate");
    let out = logs.describe_destinations().send().await.unwrap();
    assert_eq!(
        out.destinations()[0].access_policy(),
        Some(ORGANIZATION_POLICY)
    );
}

#[tokio::test]
async fn subscription_filters_can_point_at_a_destination() {
    let (_emulator, clients) = common::start().await;
    let logs = &clients.logs;
    logs.create_log_group()
        .log_group_name("/aws/lambda/checkout")
        .send()
        .await
        .unwrap();
    let subscribe = |destination: &str| {
        logs.put_subscription_filter()
            .log_group_name("/aws/lambda/checkout")
            .filter_name("to-central")
            .filter_pattern("")
            .destination_arn(destination)
    };
    let missing = format!("arn:aws:logs:{REGION}:{ACCOUNT}:destination:central");
    let err = subscribe(&missing).send().await.unwrap_err();
    assert!(err.into_service_error().is_resource_not_found_exception());
    let arn = destination(logs, "central").await;
    subscribe(&arn)
        .send()
        .await
        .expect("no role needed for a destination");
    let out = logs
        .describe_subscription_filters()
        .log_group_name("/aws/lambda/checkout")
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.subscription_filters()[0].destination_arn(),
        Some(arn.as_str())
    );

    let err = subscribe(&format!(
        "arn:aws:logs:eu-west-1:{ACCOUNT}:destination:central"
    ))
    .send()
    .await
    .unwrap_err();
    assert_eq!(
        error_code(&err),
        "InvalidParameterException",
        "another region"
    );
    let err = subscribe(&format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/other"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        error_code(&err),
        "InvalidParameterException",
        "not a destination"
    );
    subscribe(&format!(
        "arn:aws:logs:{REGION}:999999999999:destination:central"
    ))
    .send()
    .await
    .expect("another account's destination is not checked");

    logs.delete_destination()
        .destination_name("central")
        .send()
        .await
        .unwrap();
    let out = logs
        .describe_subscription_filters()
        .log_group_name("/aws/lambda/checkout")
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.subscription_filters().len(),
        1,
        "deleting a destination leaves the filters that point at it"
    );
}
