//! Firehose delivery streams through the real aws-sdk-firehose client.

mod common;

use aws_sdk_firehose::operation::create_delivery_stream::CreateDeliveryStreamError;
use aws_sdk_firehose::operation::describe_delivery_stream::DescribeDeliveryStreamError;
use aws_sdk_firehose::types::{
    BufferingHints, CompressionFormat, DeliveryStreamEncryptionConfigurationInput,
    DeliveryStreamStatus, DeliveryStreamType, DirectPutSourceConfiguration,
    ExtendedS3DestinationConfiguration, HttpEndpointConfiguration,
    HttpEndpointDestinationConfiguration, KeyType, KinesisStreamSourceConfiguration,
    S3DestinationConfiguration, Tag,
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

/// A model-constraint refusal at `path`.
fn invalid_at(path: &str, err: String) {
    assert!(err.starts_with("ValidationException: "), "{err}");
    assert!(
        err.contains(&format!("at '{path}' failed to satisfy constraint")),
        "{path}: {err}"
    );
}

#[tokio::test]
async fn destination_source_encryption_and_tag_members_follow_the_model() {
    let (_emulator, clients) = common::start().await;
    let fh = &clients.firehose;
    let create = |name: &str| fh.create_delivery_stream().delivery_stream_name(name);
    create("full")
        .extended_s3_destination_configuration(
            ExtendedS3DestinationConfiguration::builder()
                .role_arn("arn:aws:iam::123456789012:role/service-role/firehose+delivery")
                .bucket_arn("arn:aws:s3:::metrics.bucket-1")
                .buffering_hints(
                    BufferingHints::builder()
                        .size_in_mbs(128)
                        .interval_in_seconds(900)
                        .build(),
                )
                .compression_format(CompressionFormat::Gzip)
                .file_extension(".json.gz")
                .build()
                .unwrap(),
        )
        .direct_put_source_configuration(
            DirectPutSourceConfiguration::builder()
                .throughput_hint_in_mbs(100)
                .build()
                .unwrap(),
        )
        .delivery_stream_encryption_configuration_input(
            DeliveryStreamEncryptionConfigurationInput::builder()
                .key_type(KeyType::CustomerManagedCmk)
                .key_arn(
                    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                )
                .build()
                .unwrap(),
        )
        .tags(Tag::builder().key("équipe %").build().unwrap())
        .send()
        .await
        .unwrap();

    let code_and_message =
        |err: aws_sdk_firehose::error::SdkError<CreateDeliveryStreamError, _>| {
            format!("{}: {}", error_code(&err), common::error_message(&err))
        };
    let bucket = ExtendedS3DestinationConfiguration::builder()
        .role_arn("arn:aws:iam::123456789012:role/firehose")
        .bucket_arn("my-bucket")
        .build()
        .unwrap();
    invalid_at(
        "extendedS3DestinationConfiguration.bucketARN",
        code_and_message(
            create("bad-bucket")
                .extended_s3_destination_configuration(bucket)
                .send()
                .await
                .unwrap_err(),
        ),
    );
    let big = ExtendedS3DestinationConfiguration::builder()
        .role_arn("arn:aws:iam::123456789012:role/firehose")
        .bucket_arn("arn:aws:s3:::b")
        .buffering_hints(BufferingHints::builder().size_in_mbs(129).build())
        .build()
        .unwrap();
    invalid_at(
        "extendedS3DestinationConfiguration.bufferingHints.sizeInMBs",
        code_and_message(
            create("big-buffer")
                .extended_s3_destination_configuration(big)
                .send()
                .await
                .unwrap_err(),
        ),
    );
    let plain_http = HttpEndpointDestinationConfiguration::builder()
        .endpoint_configuration(
            HttpEndpointConfiguration::builder()
                .url("http://collector.example.com")
                .build()
                .unwrap(),
        )
        .s3_configuration(
            S3DestinationConfiguration::builder()
                .role_arn("arn:aws:iam::123456789012:role/firehose")
                .bucket_arn("arn:aws:s3:::b")
                .build()
                .unwrap(),
        )
        .build();
    invalid_at(
        "httpEndpointDestinationConfiguration.endpointConfiguration.url",
        code_and_message(
            create("plain-http")
                .http_endpoint_destination_configuration(plain_http)
                .send()
                .await
                .unwrap_err(),
        ),
    );
    invalid_at(
        "tags.1.member.key",
        code_and_message(
            create("reserved-tag")
                .extended_s3_destination_configuration(s3())
                .tags(Tag::builder().key("aws:owner").value("me").build().unwrap())
                .send()
                .await
                .unwrap_err(),
        ),
    );
    invalid_at(
        "directPutSourceConfiguration.throughputHintInMBs",
        code_and_message(
            create("fast")
                .extended_s3_destination_configuration(s3())
                .direct_put_source_configuration(
                    DirectPutSourceConfiguration::builder()
                        .throughput_hint_in_mbs(101)
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap_err(),
        ),
    );
    invalid_at(
        "kinesisStreamSourceConfiguration.kinesisStreamARN",
        code_and_message(
            create("bad-source")
                .delivery_stream_type(DeliveryStreamType::KinesisStreamAsSource)
                .extended_s3_destination_configuration(s3())
                .kinesis_stream_source_configuration(
                    KinesisStreamSourceConfiguration::builder()
                        .kinesis_stream_arn("arn:aws:kinesis:us-east-1:123456789012:table/src")
                        .role_arn("arn:aws:iam::123456789012:role/firehose")
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap_err(),
        ),
    );

    let err = create("no-key")
        .extended_s3_destination_configuration(s3())
        .delivery_stream_encryption_configuration_input(
            DeliveryStreamEncryptionConfigurationInput::builder()
                .key_type(KeyType::CustomerManagedCmk)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_message(err),
        "InvalidArgumentException: KeyARN must be specified when KeyType is CUSTOMER_MANAGED_CMK"
    );
    let err = create("direct-put-on-kinesis")
        .delivery_stream_type(DeliveryStreamType::KinesisStreamAsSource)
        .extended_s3_destination_configuration(s3())
        .kinesis_stream_source_configuration(
            KinesisStreamSourceConfiguration::builder()
                .kinesis_stream_arn("arn:aws:kinesis:us-east-1:123456789012:stream/src")
                .role_arn("arn:aws:iam::123456789012:role/firehose")
                .build()
                .unwrap(),
        )
        .direct_put_source_configuration(
            DirectPutSourceConfiguration::builder()
                .throughput_hint_in_mbs(1)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        code_and_message(err),
        "InvalidArgumentException: DirectPutSourceConfiguration can only be specified when the \
         DeliveryStreamType is DirectPut"
    );
    let err = fh
        .describe_delivery_stream()
        .delivery_stream_name("full")
        .limit(0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error_code(&err), "ValidationException");
    assert!(
        common::error_message(&err).contains("at 'limit'"),
        "{err:?}"
    );
}
