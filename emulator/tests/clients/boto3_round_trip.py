"""Round trip through boto3 (botocore's awsJson 1.0/1.1, restJson 1 and awsQuery clients) against the
emulator at $AWS_ENDPOINT_URL: a second, independent client implementation must agree with
the emulator on shapes, timestamps and error codes.

Run by the Rust test `client_compatibility`; exits non-zero on the first disagreement.
"""

import datetime
import json
import os
import sys
import time
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

CONFIG = Config(retries={"max_attempts": 1, "mode": "standard"})
ACCOUNT = "123456789012"
REGION = "us-east-1"


def client(service):
    return boto3.client(service, region_name=REGION, config=CONFIG)


def expect_error(code, call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except ClientError as error:
        got = error.response["Error"]["Code"]
        assert got == code, f"expected {code}, got {got}: {error}"
        return error
    raise AssertionError(f"expected {code}, the call succeeded")


def cloudwatch_round_trip():
    cw = client("cloudwatch")
    alarm = dict(
        AlarmName="boto-cpu",
        Namespace="AWS/EC2",
        MetricName="CPUUtilization",
        Dimensions=[{"Name": "InstanceId", "Value": "i-1"}],
        Statistic="Average",
        Period=60,
        EvaluationPeriods=2,
        Threshold=75.5,
        ComparisonOperator="GreaterThanThreshold",
        Tags=[{"Key": "team", "Value": "web"}],
    )
    cw.put_metric_alarm(**alarm)
    described = cw.describe_alarms(AlarmNames=["boto-cpu"])["MetricAlarms"]
    assert len(described) == 1, described
    got = described[0]
    assert got["AlarmArn"] == f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:boto-cpu", got
    assert got["StateValue"] == "INSUFFICIENT_DATA", got
    assert got["Threshold"] == 75.5 and got["Period"] == 60, got
    assert isinstance(got["StateUpdatedTimestamp"], datetime.datetime), got
    assert got["Dimensions"] == [{"Name": "InstanceId", "Value": "i-1"}], got

    cw.put_composite_alarm(AlarmName="boto-composite", AlarmRule='ALARM("boto-cpu")')
    children = cw.describe_alarms(ChildrenOfAlarmName="boto-composite")
    assert [a["AlarmName"] for a in children["MetricAlarms"]] == ["boto-cpu"], children
    cw.set_alarm_state(AlarmName="boto-cpu", StateValue="ALARM", StateReason="test")
    composite = cw.describe_alarms(AlarmNames=["boto-composite"], AlarmTypes=["CompositeAlarm"])
    assert composite["CompositeAlarms"][0]["StateValue"] == "ALARM", composite

    arn = got["AlarmArn"]
    cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "dev"}])
    tags = cw.list_tags_for_resource(ResourceARN=arn)["Tags"]
    assert {t["Key"] for t in tags} == {"team", "env"}, tags
    cw.untag_resource(ResourceARN=arn, TagKeys=["env"])

    math = dict(
        AlarmName="boto-math",
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanThreshold",
        Metrics=[
            {"Id": "m1", "ReturnData": False, "MetricStat": {
                "Metric": {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization"},
                "Period": 60, "Stat": "Average"}},
            {"Id": "e1", "Expression": "FOO(bar", "ReturnData": True},
        ],
    )
    error = expect_error("ValidationError", cw.put_metric_alarm, **math)
    assert "at char 7" in error.response["Error"]["Message"], error.response
    math["Metrics"][1]["Expression"] = "FILL(m1, REPEAT) * 100"
    cw.put_metric_alarm(**math)
    cw.delete_alarms(AlarmNames=["boto-math"])

    expect_error("ValidationError", cw.describe_alarms, MaxRecords=500)
    expect_error("InvalidParameterCombination", cw.describe_alarms, AlarmNames=["a"], AlarmNamePrefix="a")
    expect_error("ValidationError", cw.delete_alarms, AlarmNames=["boto-cpu"])
    expect_error("ResourceNotFound", cw.set_alarm_state, AlarmName="nope", StateValue="OK", StateReason="x")
    try:
        cw.get_metric_stream(Name="missing")
        raise AssertionError("GetMetricStream of a missing stream succeeded")
    except cw.exceptions.ResourceNotFoundException:
        pass
    try:
        cw.describe_alarms(NextToken="forged")
        raise AssertionError("a forged NextToken was accepted")
    except cw.exceptions.InvalidNextToken:
        pass

    stream = cw.put_metric_stream(
        Name="boto-stream",
        FirehoseArn=f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/metrics",
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/streams",
        OutputFormat="json",
    )
    assert stream["Arn"].endswith(":metric-stream/boto-stream"), stream
    cw.stop_metric_streams(Names=["boto-stream"])
    assert cw.get_metric_stream(Name="boto-stream")["State"] == "stopped"
    entries = cw.list_metric_streams()["Entries"]
    assert [e["Name"] for e in entries] == ["boto-stream"], entries
    cw.delete_metric_stream(Name="boto-stream")

    cw.delete_alarms(AlarmNames=["boto-composite"])
    cw.delete_alarms(AlarmNames=["boto-cpu", "never-existed"])
    assert cw.describe_alarms()["MetricAlarms"] == []


def logs_round_trip():
    logs = client("logs")
    logs.create_log_group(logGroupName="/boto/app")
    try:
        logs.create_log_group(logGroupName="/boto/app")
        raise AssertionError("a duplicate log group was created")
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    groups = logs.describe_log_groups(logGroupNamePrefix="/boto/")["logGroups"]
    assert groups[0]["arn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/boto/app:*", groups
    destination = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/logs"
    role = f"arn:aws:iam::{ACCOUNT}:role/logs"
    for name in ("f1", "f2"):
        logs.put_subscription_filter(
            logGroupName="/boto/app", filterName=name, filterPattern="", destinationArn=destination, roleArn=role
        )
    try:
        logs.put_subscription_filter(
            logGroupName="/boto/app", filterName="f3", filterPattern="", destinationArn=destination, roleArn=role
        )
        raise AssertionError("a third subscription filter was accepted")
    except logs.exceptions.LimitExceededException:
        pass
    filters = logs.describe_subscription_filters(logGroupName="/boto/app", filterNamePrefix="f")
    assert [f["filterName"] for f in filters["subscriptionFilters"]] == ["f1", "f2"], filters
    logs.delete_subscription_filter(logGroupName="/boto/app", filterName="f1")
    expect_error("ResourceNotFoundException", logs.describe_subscription_filters, logGroupName="/missing")
    expect_error("InvalidParameterException", logs.create_log_group, logGroupName="bad name")
    logs.delete_log_group(logGroupName="/boto/app")


def logs_metric_filters_round_trip():
    logs = client("logs")
    logs.create_log_group(logGroupName="/boto/checkout")
    logs.put_metric_filter(
        logGroupName="/boto/checkout",
        filterName="errors",
        filterPattern='{ $.level = "ERROR" }',
        metricTransformations=[
            {
                "metricName": "Errors",
                "metricNamespace": "Checkout",
                "metricValue": "1",
                "defaultValue": 0.0,
                "unit": "Count",
            }
        ],
    )
    filters = logs.describe_metric_filters(logGroupName="/boto/checkout")["metricFilters"]
    assert [f["filterName"] for f in filters] == ["errors"], filters
    transformation = filters[0]["metricTransformations"][0]
    assert transformation["defaultValue"] == 0.0 and transformation["unit"] == "Count", transformation
    assert isinstance(filters[0]["creationTime"], int), filters
    by_metric = logs.describe_metric_filters(metricName="Errors", metricNamespace="Checkout")
    assert len(by_metric["metricFilters"]) == 1, by_metric
    tested = logs.test_metric_filter(
        filterPattern="[ip, user, ..., status_code = 5*, bytes]",
        logEventMessages=["10.0.0.1 alice GET / 503 120", "10.0.0.1 alice GET / 200 90"],
    )["matches"]
    assert [m["eventNumber"] for m in tested] == [1], tested
    values = tested[0]["extractedValues"]
    assert values["$status_code"] == "503" and values["$bytes"] == "120" and values["$3"] == "GET", values
    expect_error("InvalidParameterException", logs.test_metric_filter, filterPattern="{ $.a = ", logEventMessages=["x"])
    error = expect_error(
        "InvalidParameterException",
        logs.put_metric_filter,
        logGroupName="/boto/checkout",
        filterName="dimensioned",
        filterPattern="ERROR",
        metricTransformations=[
            {"metricName": "E", "metricNamespace": "N", "metricValue": "1", "dimensions": {"Level": "$.level"}}
        ],
    )
    assert "does not support dimensions" in str(error), error
    logs.delete_metric_filter(logGroupName="/boto/checkout", filterName="errors")
    expect_error("ResourceNotFoundException", logs.delete_metric_filter, logGroupName="/boto/checkout", filterName="errors")
    logs.delete_log_group(logGroupName="/boto/checkout")


def logs_destinations_round_trip():
    logs = client("logs")
    target = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/central"
    role = f"arn:aws:iam::{ACCOUNT}:role/CWLtoKinesisRole"
    created = logs.put_destination(destinationName="central", targetArn=target, roleArn=role)["destination"]
    assert created["arn"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:destination:central", created
    assert "accessPolicy" not in created, created
    policy = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "111111111111"}, '
        f'"Action": "logs:PutSubscriptionFilter", "Resource": "{created["arn"]}"}}]}}'
    )
    logs.put_destination_policy(destinationName="central", accessPolicy=policy)
    listed = logs.describe_destinations(DestinationNamePrefix="cent")["destinations"]
    assert [d["accessPolicy"] for d in listed] == [policy], listed
    expect_error("InvalidParameterException", logs.put_destination_policy, destinationName="central", accessPolicy="{}")
    logs.create_log_group(logGroupName="/boto/sender")
    logs.put_subscription_filter(
        logGroupName="/boto/sender", filterName="central", filterPattern="", destinationArn=created["arn"]
    )
    logs.delete_log_group(logGroupName="/boto/sender")
    logs.delete_destination(destinationName="central")
    expect_error("ResourceNotFoundException", logs.delete_destination, destinationName="central")


def firehose_round_trip():
    firehose = client("firehose")
    created = firehose.create_delivery_stream(
        DeliveryStreamName="boto-metrics",
        ExtendedS3DestinationConfiguration={
            "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/firehose",
            "BucketARN": "arn:aws:s3:::bucket",
        },
    )
    assert created["DeliveryStreamARN"] == f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/boto-metrics"
    description = firehose.describe_delivery_stream(DeliveryStreamName="boto-metrics")["DeliveryStreamDescription"]
    assert description["DeliveryStreamStatus"] == "ACTIVE", description
    assert isinstance(description["CreateTimestamp"], datetime.datetime), description
    listed = firehose.list_delivery_streams()
    assert listed["DeliveryStreamNames"] == ["boto-metrics"] and not listed["HasMoreDeliveryStreams"], listed
    firehose.delete_delivery_stream(DeliveryStreamName="boto-metrics")
    try:
        firehose.describe_delivery_stream(DeliveryStreamName="boto-metrics")
        raise AssertionError("a deleted stream is still described")
    except firehose.exceptions.ResourceNotFoundException:
        pass


def xray_round_trip():
    xray = client("xray")
    records = xray.get_sampling_rules()["SamplingRuleRecords"]
    assert [r["SamplingRule"]["RuleName"] for r in records] == ["Default"], records
    rule = {
        "RuleName": "boto-rule",
        "ResourceARN": "*",
        "Priority": 10,
        "FixedRate": 0.2,
        "ReservoirSize": 2,
        "ServiceName": "*",
        "ServiceType": "*",
        "Host": "*",
        "HTTPMethod": "*",
        "URLPath": "*",
        "Version": 1,
    }
    created = xray.create_sampling_rule(SamplingRule=rule, Tags=[{"Key": "k", "Value": "v"}])
    arn = created["SamplingRuleRecord"]["SamplingRule"]["RuleARN"]
    assert arn == f"arn:aws:xray:{REGION}:{ACCOUNT}:sampling-rule/boto-rule", arn
    assert isinstance(created["SamplingRuleRecord"]["CreatedAt"], datetime.datetime)
    updated = xray.update_sampling_rule(SamplingRuleUpdate={"RuleName": "boto-rule", "FixedRate": 0.5})
    assert updated["SamplingRuleRecord"]["SamplingRule"]["FixedRate"] == 0.5
    assert xray.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    xray.untag_resource(ResourceARN=arn, TagKeys=["k"])
    expect_error("InvalidRequestException", xray.delete_sampling_rule, RuleName="Default")
    expect_error("InvalidRequestException", xray.create_sampling_rule, SamplingRule=dict(rule, Version=2))
    try:
        xray.list_tags_for_resource(ResourceARN=arn.replace("boto-rule", "missing"))
        raise AssertionError("tags of a missing rule were listed")
    except xray.exceptions.ResourceNotFoundException:
        pass
    xray.delete_sampling_rule(RuleARN=arn)


def admin_put(path, body):
    request = urllib.request.Request(
        os.environ["AWS_ENDPOINT_URL"] + path,
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200, answer.status


def sts_round_trip():
    team = "210987654321"
    role = f"arn:aws:iam::{team}:role/boto"
    sts = client("sts")
    me = sts.get_caller_identity()
    assert me["Account"] == ACCOUNT and me["Arn"] == f"arn:aws:iam::{ACCOUNT}:root", me

    admin_put("/_emulator/iam/roles", {"arn": role, "trust": [{"principal": "999999999999"}]})
    error = expect_error("AccessDenied", sts.assume_role, RoleArn=role, RoleSessionName="boto")
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 403, error.response
    assert error.response["Error"]["Type"] == "Sender", error.response
    assert "is not authorized to perform: sts:AssumeRole" in error.response["Error"]["Message"]

    admin_put(
        "/_emulator/iam/roles",
        {"arn": role, "trust": [{"principal": f"arn:aws:iam::{ACCOUNT}:root", "externalId": "ext-1"}]},
    )
    expect_error("AccessDenied", sts.assume_role, RoleArn=role, RoleSessionName="boto")
    # Longer than the role allows (botocore itself checks the API reference's 900..43200).
    error = expect_error(
        "ValidationError", sts.assume_role, RoleArn=role, RoleSessionName="boto", ExternalId="ext-1", DurationSeconds=3601
    )
    assert "MaxSessionDuration" in error.response["Error"]["Message"], error.response
    assumed = sts.assume_role(RoleArn=role, RoleSessionName="boto", ExternalId="ext-1", DurationSeconds=900)
    credentials = assumed["Credentials"]
    assert credentials["AccessKeyId"].startswith("ASIA"), credentials
    assert isinstance(credentials["Expiration"], datetime.datetime), credentials
    left = credentials["Expiration"] - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(seconds=890) < left <= datetime.timedelta(seconds=900), left
    assert assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{team}:assumed-role/boto/boto", assumed

    session = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )
    team_sts = session.client("sts", config=CONFIG)
    assert team_sts.get_caller_identity()["Account"] == team
    team_logs = session.client("logs", config=CONFIG)
    team_logs.create_log_group(logGroupName="/boto/team")
    groups = team_logs.describe_log_groups(logGroupNamePrefix="/boto/")["logGroups"]
    assert groups[0]["arn"] == f"arn:aws:logs:{REGION}:{team}:log-group:/boto/team:*", groups
    assert client("logs").describe_log_groups(logGroupNamePrefix="/boto/")["logGroups"] == []

    admin_put("/_emulator/sts", {"sessionSeconds": 2})
    short = sts.assume_role(RoleArn=role, RoleSessionName="boto", ExternalId="ext-1")["Credentials"]
    admin_put("/_emulator/sts", {})
    expired = boto3.session.Session(
        aws_access_key_id=short["AccessKeyId"],
        aws_secret_access_key=short["SecretAccessKey"],
        aws_session_token=short["SessionToken"],
        region_name=REGION,
    )
    time.sleep(2.1)
    expect_error("ExpiredToken", expired.client("sts", config=CONFIG).get_caller_identity)
    expect_error("ExpiredTokenException", expired.client("logs", config=CONFIG).describe_log_groups)
    team_logs.delete_log_group(logGroupName="/boto/team")


def main():
    steps = [
        cloudwatch_round_trip,
        logs_round_trip,
        logs_metric_filters_round_trip,
        logs_destinations_round_trip,
        firehose_round_trip,
        xray_round_trip,
        sts_round_trip,
    ]
    for step in steps:
        step()
        print(f"ok {step.__name__}")
    print(f"{len(steps)} passed, 0 failed")


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # report which step disagreed, then fail
        print(f"FAILED: {error!r}", file=sys.stderr)
        raise
