//! Tags on CloudWatch Logs destinations (TagResource, UntagResource, ListTagsForResource by
//! ARN), through the real aws-sdk-cloudwatchlogs client.

mod common;

use common::{ACCOUNT, REGION, error_code};

const KINESIS: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/central-logs";
const ROLE: &str = "arn:aws:iam::123456789012:role/CWLtoKinesisRole";

#[tokio::test]
async fn a_destinations_tags_are_listed_added_and_removed_by_arn() {
    let (_emulator, clients) = common::start().await;
    let logs = &clients.logs;
    let arn = logs
        .put_destination()
        .destination_name("central")
        .target_arn(KINESIS)
        .role_arn(ROLE)
        .tags("team", "platform")
        .send()
        .await
        .unwrap()
        .destination()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    let tags = |out: aws_sdk_cloudwatchlogs::operation::list_tags_for_resource::ListTagsForResourceOutput| {
        let mut t: Vec<(String, String)> = out
            .tags()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        t.sort();
        t
    };
    let listed = logs
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags(listed), [("team".to_string(), "platform".to_string())]);

    logs.tag_resource()
        .resource_arn(&arn)
        .tags("team", "logs")
        .tags("cost-center", "42")
        .send()
        .await
        .unwrap();
    logs.untag_resource()
        .resource_arn(&arn)
        .tag_keys("cost-center")
        .tag_keys("never-set")
        .send()
        .await
        .unwrap();
    let listed = logs
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags(listed), [("team".to_string(), "logs".to_string())]);

    // PutDestination on an existing destination leaves its tags alone.
    logs.put_destination()
        .destination_name("central")
        .target_arn(KINESIS)
        .role_arn(ROLE)
        .tags("team", "ignored")
        .send()
        .await
        .unwrap();
    let listed = logs
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags(listed), [("team".to_string(), "logs".to_string())]);
}

#[tokio::test]
async fn missing_resources_reserved_keys_and_too_many_tags_are_refused() {
    let (_emulator, clients) = common::start().await;
    let logs = &clients.logs;
    let missing = format!("arn:aws:logs:{REGION}:{ACCOUNT}:destination:nowhere");
    let err = logs
        .list_tags_for_resource()
        .resource_arn(&missing)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ResourceNotFoundException");

    let arn = logs
        .put_destination()
        .destination_name("central")
        .target_arn(KINESIS)
        .role_arn(ROLE)
        .send()
        .await
        .unwrap()
        .destination()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    let err = logs
        .tag_resource()
        .resource_arn(&arn)
        .tags("AWS:owner", "x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidParameterException");
    let mut request = logs.tag_resource().resource_arn(&arn);
    for i in 0..51 {
        request = request.tags(format!("k{i}"), "v");
    }
    let err = request.send().await.unwrap_err();
    assert_eq!(error_code(&err), "TooManyTagsException");
}
