//! A journal of the calls that change state, in the order they ran: when each came, its
//! operation, how it ended, and the start of its request.
//!
//! Counts ([`crate::calls`]) tell how many calls were made; the journal tells which, so a test
//! that finds an AWS object nobody asked for can show every write that named it and when. It is
//! off unless the emulator is started with a capacity ([`crate::EmulatorConfig::journal_capacity`],
//! `--journal-capacity`); the oldest entries go once it is full.
//!
//! `GET /_emulator/journal?contains=NAME` answers the entries whose request mentions `NAME`, as a
//! JSON array of [`JournalEntry`].

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::calls::is_read_operation;

/// Bytes of a request kept per entry.
const REQUEST_EXCERPT: usize = 600;

/// One call that changes state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    /// Position since the emulator started (entries dropped when full leave gaps).
    pub seq: u64,
    /// When the call was answered, in milliseconds since the Unix epoch.
    pub at_millis: u64,
    /// The account whose state it addressed, when its credentials resolved to one.
    pub account: Option<String>,
    pub service: String,
    pub operation: String,
    /// `ok`, or the error code it was answered with (`injected` marks a fault injected here).
    pub outcome: String,
    /// The request body's first bytes, as text (bytes that are not printable UTF-8 shown as
    /// `·`): enough to see the names it carries.
    pub request: String,
}

/// The bounded, thread-safe journal.
#[derive(Debug)]
pub struct Journal {
    capacity: usize,
    entries: Mutex<(u64, VecDeque<JournalEntry>)>,
}

impl Journal {
    /// A journal keeping the last `capacity` writes; 0 keeps none.
    pub fn new(capacity: usize) -> Journal {
        Journal {
            capacity,
            entries: Mutex::new((0, VecDeque::new())),
        }
    }

    /// Notes a call, if it changes state and the journal is on.
    pub fn note(
        &self,
        account: Option<&str>,
        service: &str,
        operation: &str,
        outcome: &str,
        body: &[u8],
    ) {
        if self.capacity == 0 || is_read_operation(operation) {
            return;
        }
        let at_millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let mut guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (next, entries) = &mut *guard;
        if entries.len() == self.capacity {
            entries.pop_front();
        }
        entries.push_back(JournalEntry {
            seq: *next,
            at_millis,
            account: account.map(str::to_string),
            service: service.to_string(),
            operation: operation.to_string(),
            outcome: outcome.to_string(),
            request: excerpt(body),
        });
        *next += 1;
    }

    /// The entries whose request mentions `needle` (all of them for an empty needle), oldest
    /// first.
    pub fn matching(&self, needle: &str) -> Vec<JournalEntry> {
        let guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .1
            .iter()
            .filter(|e| e.request.contains(needle))
            .cloned()
            .collect()
    }
}

/// `body`'s first [`REQUEST_EXCERPT`] bytes as text; control characters and invalid UTF-8 (a
/// CBOR body's framing) become `·`, so names stay searchable.
fn excerpt(body: &[u8]) -> String {
    let head = &body[..body.len().min(REQUEST_EXCERPT)];
    String::from_utf8_lossy(head)
        .chars()
        .map(|c| {
            if c.is_control() || c == char::REPLACEMENT_CHARACTER {
                '·'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_writes_are_journaled_and_only_when_on() {
        let off = Journal::new(0);
        off.note(None, "cloudwatch", "PutMetricAlarm", "ok", b"a");
        assert!(off.matching("").is_empty());

        let on = Journal::new(10);
        on.note(None, "cloudwatch", "DescribeAlarms", "ok", b"alarm-1");
        on.note(
            Some("123456789012"),
            "cloudwatch",
            "PutMetricAlarm",
            "ok",
            b"alarm-1",
        );
        let entries = on.matching("alarm-1");
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0].operation, "PutMetricAlarm");
        assert_eq!(entries[0].account.as_deref(), Some("123456789012"));
    }

    #[test]
    fn the_oldest_entries_go_when_full() {
        let journal = Journal::new(2);
        for name in ["first", "second", "third"] {
            journal.note(None, "logs", "PutSubscriptionFilter", "ok", name.as_bytes());
        }
        let kept: Vec<(u64, String)> = journal
            .matching("")
            .into_iter()
            .map(|e| (e.seq, e.request))
            .collect();
        assert_eq!(kept, [(1, "second".into()), (2, "third".into())]);
    }

    #[test]
    fn names_in_a_binary_body_stay_searchable() {
        // A CBOR map {"AlarmName": "chaos-alarm-0001"} as the SDK's rpcv2Cbor sends it.
        let mut body = vec![0xbf, 0x69];
        body.extend_from_slice(b"AlarmName");
        body.push(0x70);
        body.extend_from_slice(b"chaos-alarm-0001");
        body.push(0xff);
        let journal = Journal::new(5);
        journal.note(None, "cloudwatch", "DeleteAlarms", "ok", &body);
        let entries = journal.matching("chaos-alarm-0001");
        assert_eq!(entries.len(), 1);
        assert!(!entries[0].request.contains('\u{fffd}'));
    }
}
