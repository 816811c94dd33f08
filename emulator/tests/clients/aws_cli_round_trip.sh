#!/usr/bin/env bash
# Round trip through the AWS CLI against the emulator at $AWS_ENDPOINT_URL: one scripted
# create/read/error/delete per service. Run by the Rust test `client_compatibility`.
set -euo pipefail

ACCOUNT=123456789012
REGION=us-east-1

fail() { echo "FAILED: $*" >&2; exit 1; }

# expect_error CODE COMMAND...: the command must fail with the AWS error CODE.
expect_error() {
    local code=$1; shift
    local output
    if output=$("$@" 2>&1); then fail "expected $code from: $*"; fi
    grep -q "($code)" <<<"$output" || fail "expected $code from: $* — got: $output"
}

equals() { [[ "$1" == "$2" ]] || fail "expected '$2', got '$1'"; }

# CloudWatch (awsJson 1.0)
aws cloudwatch put-metric-alarm --alarm-name cli-cpu --namespace AWS/EC2 --metric-name CPUUtilization \
    --statistic Average --period 300 --evaluation-periods 1 --threshold 90 \
    --comparison-operator GreaterThanThreshold --dimensions Name=InstanceId,Value=i-1
equals "$(aws cloudwatch describe-alarms --alarm-names cli-cpu --query 'MetricAlarms[0].StateValue' --output text)" INSUFFICIENT_DATA
equals "$(aws cloudwatch describe-alarms --alarm-names cli-cpu --query 'MetricAlarms[0].AlarmArn' --output text)" \
    "arn:aws:cloudwatch:$REGION:$ACCOUNT:alarm:cli-cpu"
aws cloudwatch put-composite-alarm --alarm-name cli-composite --alarm-rule 'ALARM(cli-cpu)'
aws cloudwatch set-alarm-state --alarm-name cli-cpu --state-value ALARM --state-reason test
equals "$(aws cloudwatch describe-alarms --alarm-names cli-composite --alarm-types CompositeAlarm --query 'CompositeAlarms[0].StateValue' --output text)" ALARM
expect_error ValidationError aws cloudwatch delete-alarms --alarm-names cli-cpu
expect_error ValidationError aws cloudwatch put-composite-alarm --alarm-name bad --alarm-rule 'ALARM(missing)'
expect_error ResourceNotFoundException aws cloudwatch get-metric-stream --name missing
aws cloudwatch delete-alarms --alarm-names cli-composite
aws cloudwatch delete-alarms --alarm-names cli-cpu
equals "$(aws cloudwatch describe-alarms --query 'length(MetricAlarms)' --output text)" 0
echo "ok cloudwatch"

# CloudWatch Logs (awsJson 1.1)
aws logs create-log-group --log-group-name /cli/app
expect_error ResourceAlreadyExistsException aws logs create-log-group --log-group-name /cli/app
for name in one two; do
    aws logs put-subscription-filter --log-group-name /cli/app --filter-name "$name" --filter-pattern '' \
        --destination-arn "arn:aws:kinesis:$REGION:$ACCOUNT:stream/logs" --role-arn "arn:aws:iam::$ACCOUNT:role/logs"
done
expect_error LimitExceededException aws logs put-subscription-filter --log-group-name /cli/app --filter-name three \
    --filter-pattern '' --destination-arn "arn:aws:kinesis:$REGION:$ACCOUNT:stream/logs" --role-arn "arn:aws:iam::$ACCOUNT:role/logs"
equals "$(aws logs describe-subscription-filters --log-group-name /cli/app --query 'length(subscriptionFilters)' --output text)" 2
aws logs put-metric-filter --log-group-name /cli/app --filter-name errors --filter-pattern '{ $.level = "ERROR" }' \
    --metric-transformations metricName=Errors,metricNamespace=Checkout,metricValue=1,defaultValue=0
equals "$(aws logs describe-metric-filters --log-group-name /cli/app --query 'metricFilters[0].metricTransformations[0].metricName' --output text)" Errors
equals "$(aws logs test-metric-filter --filter-pattern '[ip, user, ..., status_code=5*, bytes]' \
    --log-event-messages '1.2.3.4 bob GET / 500 12' '1.2.3.4 bob GET / 200 12' --query 'matches[0].extractedValues."$status_code"' --output text)" 500
expect_error InvalidParameterException aws logs put-metric-filter --log-group-name /cli/app --filter-name bad \
    --filter-pattern '{ $.level = ' --metric-transformations metricName=E,metricNamespace=N,metricValue=1
aws logs put-destination --destination-name cli-central --target-arn "arn:aws:kinesis:$REGION:$ACCOUNT:stream/central" \
    --role-arn "arn:aws:iam::$ACCOUNT:role/CWLtoKinesisRole" >/dev/null
equals "$(aws logs describe-destinations --destination-name-prefix cli- --query 'destinations[0].arn' --output text)" \
    "arn:aws:logs:$REGION:$ACCOUNT:destination:cli-central"
aws logs delete-destination --destination-name cli-central
aws logs delete-log-group --log-group-name /cli/app
expect_error ResourceNotFoundException aws logs describe-subscription-filters --log-group-name /cli/app
echo "ok logs"

# Firehose (awsJson 1.1)
aws firehose create-delivery-stream --delivery-stream-name cli-metrics \
    --extended-s3-destination-configuration "RoleARN=arn:aws:iam::$ACCOUNT:role/firehose,BucketARN=arn:aws:s3:::bucket" >/dev/null
equals "$(aws firehose describe-delivery-stream --delivery-stream-name cli-metrics --query 'DeliveryStreamDescription.DeliveryStreamStatus' --output text)" ACTIVE
expect_error ResourceInUseException aws firehose create-delivery-stream --delivery-stream-name cli-metrics \
    --extended-s3-destination-configuration "RoleARN=arn:aws:iam::$ACCOUNT:role/firehose,BucketARN=arn:aws:s3:::bucket"
aws firehose delete-delivery-stream --delivery-stream-name cli-metrics
expect_error ResourceNotFoundException aws firehose describe-delivery-stream --delivery-stream-name cli-metrics
echo "ok firehose"

# X-Ray (restJson 1)
equals "$(aws xray get-sampling-rules --query 'SamplingRuleRecords[0].SamplingRule.RuleName' --output text)" Default
aws xray create-sampling-rule --sampling-rule \
    '{"RuleName":"cli-rule","ResourceARN":"*","Priority":5,"FixedRate":0.1,"ReservoirSize":1,"ServiceName":"*","ServiceType":"*","Host":"*","HTTPMethod":"*","URLPath":"*","Version":1}' >/dev/null
aws xray update-sampling-rule --sampling-rule-update '{"RuleName":"cli-rule","ReservoirSize":7}' >/dev/null
equals "$(aws xray get-sampling-rules --query "SamplingRuleRecords[?SamplingRule.RuleName=='cli-rule'].SamplingRule.ReservoirSize" --output text)" 7
expect_error InvalidRequestException aws xray delete-sampling-rule --rule-name Default
aws xray delete-sampling-rule --rule-name cli-rule >/dev/null
echo "ok xray"

echo "4 passed, 0 failed"
