//! Reads of CloudWatch metric streams: GetMetricStream (there is no batch read) and
//! ListMetricStreams, which lists names and states but not configurations.

use super::api::Api;
use super::{Aws, Location};
use crate::error::Error;
use crate::reason::Reason;
use aws_sdk_cloudwatch::operation::get_metric_stream::GetMetricStreamOutput;

/// GetMetricStream; `None` when the stream does not exist.
pub async fn get(
    aws: &Aws,
    location: &Location,
    name: &str,
) -> Result<Option<GetMetricStreamOutput>, Error> {
    let client = &aws.clients(location).cloudwatch;
    let request = client.get_metric_stream().name(name).send();
    match aws.call(location, Api::GetMetricStream, request).await {
        Ok(out) => Ok(Some(out)),
        Err(e) if e.reason == Reason::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The names of every metric stream at `location` (ListMetricStreams, every page).
pub async fn list_names(aws: &Aws, location: &Location) -> Result<Vec<String>, Error> {
    let client = &aws.clients(location).cloudwatch;
    let mut names = Vec::new();
    let mut next_token: Option<String> = None;
    loop {
        let request = client
            .list_metric_streams()
            .max_results(500)
            .set_next_token(next_token.take())
            .send();
        let out = aws.call(location, Api::ListMetricStreams, request).await?;
        names.extend(out.entries().iter().filter_map(|e| e.name.clone()));
        match out.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_string()),
            _ => return Ok(names),
        }
    }
}
