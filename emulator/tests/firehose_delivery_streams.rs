//! Firehose delivery streams through the real aws-sdk-firehose client.

mod common;

use aws_sdk_firehose::operation::create_delivery_stream::CreateDeliveryStreamError;
use aws_sdk_firehose::operation::describe_delivery_stream::DescribeDeliveryStreamError;
use aws_sdk_firehose::types::{
    DeliveryStreamStatus, DeliveryStreamType, ExtendedS3DestinationConfiguration,
    HttpEndpointConfiguration, HttpEndpointDestinationConfiguration,
    KinesisStreamSourceConfiguration, S3DestinationConfiguration,
};
use common::{ACCOUNT, REGION, error_code};

fn s3() -> ExtendedS3DestinationConfiguration {
    ExtendedS3DestinationConfiguration::builder()
        .role_arn("arn:aws:iam::123456789012:role/firehose")
        .bucket_arn("arn:aws:s3:::metrics-bucket")
        .build()
        .unwrap()
}

#[tokio::test]
async fn delivery_streams_are_created_active_and_described_with_defaults() {
    let (_emulator, clients) = common::start().await;
    let fh = &clients.firehose;
    let out = fh
        .create_delivery_stream()
        .delivery_stream_name("metrics")
        .extended_s3_destination_configuration(s3())
        .send()
        .await
        .unwrap();
    let arn = format!("arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/metrics");
    assert_eq!(out.delivery_stream_arn(), Some(arn.as_str()));
    let described = fh
        .describe_delivery_stream()
        .delivery_stream_name("metrics")
        .send()
        .await
        .unwrap();
    let description = described.delivery_stream_description().unwrap();
    assert_eq!(
        description.delivery_stream_status(),
        &DeliveryStreamStatus::Active
    );
    assert_eq!(
        description.delivery_stream_type(),
        &DeliveryStreamType::DirectPut
    );
    assert_eq!(description.delivery_stream_arn(), arn);
    let destination = &description.destinations()[0];
    let s3 = destination.extended_s3_destination_description().unwrap();
    assert_eq!(s3.bucket_arn(), "arn:aws:s3:::metrics-bucket");
    assert_eq!(s3.buffering_hints().unwrap().size_in_mbs(), Some(5));
    assert!(description.create_timestamp().is_some());
}

#[tokio::test]
async fn delivery_stream_names_are_unique_and_missing_ones_are_reported() {
    let (_emulator, clients) = common::start().await;
    let fh = &clients.firehose;
    fh.create_delivery_stream()
        .delivery_stream_name("s")
        .extended_s3_destination_configuration(s3())
        .send()
        .await
        .unwrap();
    let err = fh
        .create_delivery_stream()
        .delivery_stream_name("s")
        .extended_s3_destination_configuration(s3())
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.into_service_error(),
        CreateDeliveryStreamError::ResourceInUseException(_)
    ));
    let err = fh
        .describe_delivery_stream()
        .delivery_stream_name("missing")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        err.into_service_error(),
        DescribeDeliveryStreamError::ResourceNotFoundException(_)
    ));
    fh.delete_delivery_stream()
        .delivery_stream_name("s")
        .send()
        .await
        .unwrap();
    let err = fh
        .delete_delivery_stream()
        .delivery_stream_name("s")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_resource_not_found_exception());
}

// S3DestinationConfiguration is deprecated in favour of ExtendedS3DestinationConfiguration,
// but AWS still accepts it, so it still counts as a destination.
#[allow(deprecated)]
#[tokio::test]
async fn create_delivery_stream_validates_names_destinations_and_sources() {
    let (_emulator, clients) = common::start().await;
    let fh = &clients.firehose;
    let err = fh
        .create_delivery_stream()
        .delivery_stream_name("bad name")
        .extended_s3_destination_configuration(s3())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ValidationException");
    let err = fh
        .create_delivery_stream()
        .delivery_stream_name("none")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_invalid_argument_exception());
    let err = fh
        .create_delivery_stream()
        .delivery_stream_name("two")
        .extended_s3_destination_configuration(s3())
        .s3_destination_configuration(
            S3DestinationConfiguration::builder()
                .role_arn("arn:aws:iam::123456789012:role/firehose")
                .bucket_arn("arn:aws:s3:::b")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidArgumentException");
    let err = fh
        .create_delivery_stream()
        .delivery_stream_name("kinesis")
        .delivery_stream_type(DeliveryStreamType::KinesisStreamAsSource)
        .extended_s3_destination_configuration(s3())
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "InvalidArgumentException");
    fh.create_delivery_stream()
        .delivery_stream_name("kinesis")
        .delivery_stream_type(DeliveryStreamType::KinesisStreamAsSource)
        .kinesis_stream_source_configuration(
            KinesisStreamSourceConfiguration::builder()
                .kinesis_stream_arn("arn:aws:kinesis:us-east-1:123456789012:stream/src")
                .role_arn("arn:aws:iam::123456789012:role/firehose")
                .build()
                .unwrap(),
        )
        .http_endpoint_destination_configuration(
            HttpEndpointDestinationConfiguration::builder()
                .endpoint_configuration(
                    HttpEndpointConfiguration::builder()
                        .url("https://example.com/ingest")
                        .access_key("secret")
                        .build()
                        .unwrap(),
                )
                .s3_configuration(
                    S3DestinationConfiguration::builder()
                        .role_arn("arn:aws:iam::123456789012:role/firehose")
                        .bucket_arn("arn:aws:s3:::backup")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let out = fh
        .describe_delivery_stream()
        .delivery_stream_name("kinesis")
        .send()
        .await
        .unwrap();
    let description = out.delivery_stream_description().unwrap();
    let source = description
        .source()
        .unwrap()
        .kinesis_stream_source_description()
        .unwrap();
    assert_eq!(
        source.kinesis_stream_arn(),
        Some("arn:aws:kinesis:us-east-1:123456789012:stream/src")
    );
    let http = description.destinations()[0]
        .http_endpoint_destination_description()
        .unwrap();
    assert_eq!(
        http.endpoint_configuration().unwrap().url(),
        Some("https://example.com/ingest")
    );
}

#[tokio::test]
async fn list_delivery_streams_pages_with_an_exclusive_start_name() {
    let (_emulator, clients) = common::start().await;
    let fh = &clients.firehose;
    for name in ["a", "b", "c"] {
        fh.create_delivery_stream()
            .delivery_stream_name(name)
            .extended_s3_destination_configuration(s3())
            .send()
            .await
            .unwrap();
    }
    let first = fh.list_delivery_streams().limit(2).send().await.unwrap();
    assert_eq!(first.delivery_stream_names(), ["a", "b"]);
    assert!(first.has_more_delivery_streams());
    let rest = fh
        .list_delivery_streams()
        .limit(2)
        .exclusive_start_delivery_stream_name("b")
        .send()
        .await
        .unwrap();
    assert_eq!(rest.delivery_stream_names(), ["c"]);
    assert!(!rest.has_more_delivery_streams());
    let kinesis_only = fh
        .list_delivery_streams()
        .delivery_stream_type(DeliveryStreamType::KinesisStreamAsSource)
        .send()
        .await
        .unwrap();
    assert!(kinesis_only.delivery_stream_names().is_empty());
}
