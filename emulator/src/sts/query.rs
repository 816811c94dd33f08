//! STS's wire protocol, awsQuery: a form-encoded request (`Action=AssumeRole&Version=2011-06-15&
//! RoleArn=...`) answered in XML, errors included.

use std::collections::BTreeMap;

use crate::error::{AwsError, Fault};

/// STS's XML namespace.
pub const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
/// The API version every STS request names.
pub const VERSION: &str = "2011-06-15";

/// The form fields of a request body.
pub fn decode(body: &[u8]) -> Result<BTreeMap<String, String>, AwsError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|e| {
        AwsError::bad_request("MalformedQueryString", format!("Malformed request: {e}"))
    })?;
    Ok(pairs.into_iter().collect())
}

/// `text` with the five XML special characters escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A successful answer: `<OpResponse><OpResult>result</OpResult><ResponseMetadata>...`.
pub fn response(operation: &str, result: &str, request_id: &str) -> String {
    format!(
        "<{operation}Response xmlns=\"{NAMESPACE}\">\n  <{operation}Result>{result}</{operation}Result>\n  \
         <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n\
         </{operation}Response>\n"
    )
}

/// An error answer: `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`.
pub fn error_response(error: &AwsError, request_id: &str) -> String {
    let fault = match error.fault {
        Fault::Sender => "Sender",
        Fault::Receiver => "Receiver",
    };
    format!(
        "<ErrorResponse xmlns=\"{NAMESPACE}\">\n  <Error>\n    <Type>{fault}</Type>\n    \
         <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{request_id}</RequestId>\n\
         </ErrorResponse>\n",
        escape(&error.code),
        escape(&error.message)
    )
}

/// Seconds since the epoch as ISO 8601 in UTC (`2024-05-01T12:00:00Z`), as STS writes times.
pub fn iso8601(epoch_seconds: f64) -> String {
    let total = epoch_seconds.floor() as i64;
    let (days, secs) = (total.div_euclid(86_400), total.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_decoded_with_percent_escapes_and_plus_signs() {
        let fields = decode(
            b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A210987654321%3Arole%2Fcwo&RoleSessionName=a+b",
        )
        .unwrap();
        assert_eq!(fields["Action"], "AssumeRole");
        assert_eq!(fields["RoleArn"], "arn:aws:iam::210987654321:role/cwo");
        assert_eq!(fields["RoleSessionName"], "a b");
    }

    #[test]
    fn times_are_written_in_utc_to_the_second() {
        assert_eq!(iso8601(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_700_000_000.9), "2023-11-14T22:13:20Z");
        // A leap day, and the last second of a year.
        assert_eq!(iso8601(951_782_400.0), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(1_735_689_599.0), "2024-12-31T23:59:59Z");
    }

    #[test]
    fn errors_are_written_as_sts_writes_them_with_text_escaped() {
        let error = AwsError::new(403, "AccessDenied", "User: a<b> & \"c\" is not authorized");
        let xml = error_response(&error, "req-1");
        assert!(xml.contains("<Type>Sender</Type>"), "{xml}");
        assert!(xml.contains("<Code>AccessDenied</Code>"), "{xml}");
        assert!(
            xml.contains(
                "<Message>User: a&lt;b&gt; &amp; &quot;c&quot; is not authorized</Message>"
            ),
            "{xml}"
        );
        assert!(xml.contains("<RequestId>req-1</RequestId>"), "{xml}");
    }
}
