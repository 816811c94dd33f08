//! Opaque pagination tokens.
//!
//! Listings are ordered by name, so a token only has to say where the previous page ended.
//! The token is the hex of `v1:<last name>`: opaque to clients, checkable here so that a
//! forged or foreign token gets each service's invalid-token error.

const PREFIX: &str = "v1:";

pub fn encode(last_key: &str) -> String {
    format!("{PREFIX}{last_key}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The key the previous page ended at, or `None` for a token this emulator did not issue.
pub fn decode(token: &str) -> Option<String> {
    if !token.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(token.get(i..i + 2)?, 16).ok())
        .collect();
    let text = String::from_utf8(bytes?).ok()?;
    text.strip_prefix(PREFIX).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_forgeries() {
        assert_eq!(decode(&encode("alarm-0042")).as_deref(), Some("alarm-0042"));
        assert_eq!(decode("zz"), None);
        assert_eq!(decode("616263"), None);
    }
}
