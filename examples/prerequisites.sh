#!/usr/bin/env bash
# Creates the AWS resources the examples point at but do not manage themselves: two Firehose
# delivery streams (the metric stream's destination, and the one behind the log subscription and
# the central logging destination) and the log groups the subscription and metric filters attach
# to.
#
# Meant for the local demo: run it in a shell prepared by `cwo-bed` (its exports point the AWS
# CLI at the emulator through AWS_ENDPOINT_URL). Against a real account, create these resources
# (and the IAM roles the examples name) with your usual tooling instead.
set -euo pipefail

if [ -z "${AWS_ENDPOINT_URL:-}" ]; then
  echo "AWS_ENDPOINT_URL is not set: this script is for the local emulator started by cwo-bed." >&2
  echo "Run it in a shell where you sourced the bed's env file." >&2
  exit 1
fi
region="${AWS_DEFAULT_REGION:-us-east-1}"
account=123456789012

for stream in cloudwatch-metrics central-logs; do
  if ! aws firehose describe-delivery-stream --delivery-stream-name "$stream" >/dev/null 2>&1; then
    aws firehose create-delivery-stream \
      --delivery-stream-name "$stream" \
      --delivery-stream-type DirectPut \
      --extended-s3-destination-configuration \
        "RoleARN=arn:aws:iam::$account:role/firehose-delivery,BucketARN=arn:aws:s3:::$stream-archive" \
      >/dev/null
    echo "created Firehose delivery stream $stream in $region"
  fi
done

for group in /aws/lambda/checkout /ecs/orders; do
  if ! aws logs describe-log-groups --log-group-name-prefix "$group" \
    --query "logGroups[?logGroupName=='$group'] | length(@)" --output text | grep -qx 1; then
    aws logs create-log-group --log-group-name "$group"
    echo "created log group $group in $region"
  fi
done
