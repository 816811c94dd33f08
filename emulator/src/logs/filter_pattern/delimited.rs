//! Patterns for space-delimited log events: `[ip, user, ..., status_code = 5*, bytes > 1000]`.
//!
//! A log event splits at spaces into fields; text between `[` and `]` or between double
//! quotes is one field (without its brackets or quotes). The pattern names fields in order,
//! `...` stands for any number of fields, and a field may carry conditions on itself joined by
//! `&&` and `||` (`status_code = 404 || status_code = 410`; a condition on another field in
//! the same position is refused, as AWS refuses `status_code = 4* && bytes > 1000`).
//!
//! Without `...` the last field takes the rest of the event, which is why AWS asks for a
//! blank `w2` after `w1=ERROR`. A match extracts each named field as `$name` and every other
//! field (under `...` or an empty position such as a trailing comma) as `$<position>`, the
//! values TestMetricFilter reports and metric values and dimensions refer to.

use std::collections::BTreeMap;

use super::PatternError;
use super::condition::{Comparison, Value, parse_number};
use super::cursor::Cursor;

/// Conditions on one field: alternatives (`||`) of conjunctions (`&&`).
#[derive(Clone, Debug)]
struct FieldConditions {
    any_of: Vec<Vec<Comparison>>,
}

impl FieldConditions {
    fn hold(&self, value: &str) -> bool {
        let value = Value {
            text: value.into(),
            number: parse_number(value),
        };
        self.any_of
            .iter()
            .any(|all| all.iter().all(|c| c.holds(&value)))
    }
}

#[derive(Clone, Debug)]
enum Slot {
    /// `...`: any number of fields.
    Ellipsis,
    /// One field, named or not, with its conditions if any.
    Field {
        name: Option<String>,
        conditions: Option<FieldConditions>,
    },
}

#[derive(Clone, Debug)]
pub struct DelimitedPattern {
    slots: Vec<Slot>,
    regexes: usize,
}

/// One field of a log event: its value and where its text starts in the event.
struct Field<'a> {
    start: usize,
    value: &'a str,
}

impl DelimitedPattern {
    /// `text` is the whole pattern, brackets included.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let inner = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .ok_or_else(|| PatternError::syntax("a space-delimited pattern is enclosed in [ ]"))?;
        let mut cursor = Cursor::new(inner);
        let mut slots = Vec::new();
        let mut regexes = 0;
        cursor.skip_whitespace();
        if cursor.at_end() {
            // `[]` names no field: every field is extracted by position.
            slots.push(Slot::Ellipsis);
        }
        while !cursor.at_end() {
            slots.push(parse_slot(&mut cursor, &mut regexes)?);
            cursor.skip_whitespace();
            if cursor.at_end() {
                break;
            }
            if !cursor.eat(",") {
                return Err(PatternError::syntax(format!(
                    "expected ',' before '{}'",
                    cursor.rest()
                )));
            }
            cursor.skip_whitespace();
            if cursor.at_end() {
                // A trailing comma leaves an unnamed last field.
                slots.push(Slot::Field {
                    name: None,
                    conditions: None,
                });
            }
        }
        Ok(Self { slots, regexes })
    }

    pub fn regex_count(&self) -> usize {
        self.regexes
    }

    /// Whether `name` is a named field of the pattern (what `$name` may refer to).
    pub fn names_field(&self, name: &str) -> bool {
        self.slots
            .iter()
            .any(|s| matches!(s, Slot::Field { name: Some(n), .. } if n == name))
    }

    /// The extracted fields when the event matches.
    pub fn extract(&self, message: &str) -> Option<BTreeMap<String, String>> {
        let fields = split_fields(message);
        let has_ellipsis = self.slots.iter().any(|s| matches!(s, Slot::Ellipsis));
        let mut extracted = BTreeMap::new();
        if has_ellipsis {
            let assignment = self.align(&fields, 0, 0)?;
            for (position, slot) in assignment.iter().enumerate() {
                let value = fields[position].value.to_string();
                match slot {
                    Some(name) => extracted.insert(format!("${name}"), value),
                    None => extracted.insert(format!("${}", position + 1), value),
                };
            }
            return Some(extracted);
        }
        let last = self.slots.len() - 1;
        if fields.len() < self.slots.len() {
            return None;
        }
        for (position, slot) in self.slots.iter().enumerate() {
            let Slot::Field { name, conditions } = slot else {
                unreachable!("no ellipsis in this pattern");
            };
            let value = if position == last && fields.len() > self.slots.len() {
                message[fields[position].start..].trim_end()
            } else {
                fields[position].value
            };
            if conditions.as_ref().is_some_and(|c| !c.hold(value)) {
                return None;
            }
            let key = match name {
                Some(name) => format!("${name}"),
                None => format!("${}", position + 1),
            };
            extracted.insert(key, value.to_string());
        }
        Some(extracted)
    }

    /// Assigns fields from `field` on to the slots from `slot` on; each field gets the name
    /// of its slot (`None` for unnamed fields and those under `...`). Ellipses take as few
    /// fields as they can.
    fn align(
        &self,
        fields: &[Field<'_>],
        slot: usize,
        field: usize,
    ) -> Option<Vec<Option<String>>> {
        let Some(current) = self.slots.get(slot) else {
            return (field == fields.len()).then(Vec::new);
        };
        match current {
            Slot::Ellipsis => (field..=fields.len()).find_map(|end| {
                let mut rest = self.align(fields, slot + 1, end)?;
                let mut names = vec![None; end - field];
                names.append(&mut rest);
                Some(names)
            }),
            Slot::Field { name, conditions } => {
                let value = fields.get(field)?.value;
                if conditions.as_ref().is_some_and(|c| !c.hold(value)) {
                    return None;
                }
                let mut names = vec![name.clone()];
                names.append(&mut self.align(fields, slot + 1, field + 1)?);
                Some(names)
            }
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn parse_slot(cursor: &mut Cursor<'_>, regexes: &mut usize) -> Result<Slot, PatternError> {
    if cursor.eat("...") {
        return Ok(Slot::Ellipsis);
    }
    if cursor.peek() == Some(',') {
        return Ok(Slot::Field {
            name: None,
            conditions: None,
        });
    }
    let name = cursor.take_while(is_name_char).to_string();
    if name.is_empty() {
        return Err(PatternError::syntax(format!(
            "expected a field name at '{}'",
            cursor.rest()
        )));
    }
    cursor.skip_whitespace();
    if matches!(cursor.peek(), None | Some(',')) {
        return Ok(Slot::Field {
            name: Some(name),
            conditions: None,
        });
    }
    let stop = |c: char| ",&|".contains(c);
    let mut any_of = vec![vec![Comparison::parse(cursor, stop)?]];
    loop {
        cursor.skip_whitespace();
        let or = if cursor.eat("||") {
            true
        } else if cursor.eat("&&") {
            false
        } else {
            break;
        };
        cursor.skip_whitespace();
        let next = cursor.take_while(is_name_char);
        if next != name {
            return Err(PatternError::syntax(format!(
                "a condition on '{next}' in the position of '{name}'"
            )));
        }
        cursor.skip_whitespace();
        let comparison = Comparison::parse(cursor, stop)?;
        if or {
            any_of.push(vec![comparison]);
        } else {
            any_of.last_mut().expect("never empty").push(comparison);
        }
    }
    *regexes += any_of
        .iter()
        .flatten()
        .filter(|c| c.operand.is_regex())
        .count();
    Ok(Slot::Field {
        name: Some(name),
        conditions: Some(FieldConditions { any_of }),
    })
}

/// Splits a log event into fields at spaces, keeping `[...]` and `"..."` together.
fn split_fields(message: &str) -> Vec<Field<'_>> {
    let mut fields = Vec::new();
    let bytes = message.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        let closing = match bytes[i] {
            b'[' => Some(b']'),
            b'"' => Some(b'"'),
            _ => None,
        };
        let enclosed = closing.and_then(|close| {
            let mut j = i + 1;
            while j < bytes.len() {
                if bytes[j] == b'\\' && close == b'"' {
                    j += 2;
                    continue;
                }
                if bytes[j] == close {
                    return Some(j);
                }
                j += 1;
            }
            None
        });
        match enclosed {
            Some(end) => {
                fields.push(Field {
                    start,
                    value: &message[start + 1..end],
                });
                i = end + 1;
            }
            None => {
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                fields.push(Field {
                    start,
                    value: &message[start..i],
                });
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    const APACHE: &str =
        r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#;

    const APP: [&str; 4] = [
        "INFO 09/25/2014 12:00:00 GET /service/resource/67 1200",
        "INFO 09/25/2014 12:00:01 POST /service/resource/67/part/111 1310",
        "WARNING 09/25/2014 12:00:02 Invalid user request",
        "ERROR 09/25/2014 12:00:02 Failed to process request",
    ];

    fn extract(pattern: &str, message: &str) -> Option<Vec<(String, String)>> {
        DelimitedPattern::parse(pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e:?}"))
            .extract(message)
            .map(|m| m.into_iter().collect())
    }

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<_> = items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        v.sort();
        v
    }

    fn matching(pattern: &str) -> Vec<usize> {
        let parsed = DelimitedPattern::parse(pattern).unwrap();
        (0..APP.len())
            .filter(|i| parsed.extract(APP[*i]).is_some())
            .collect()
    }

    #[test]
    fn fields_split_at_spaces_except_inside_brackets_and_quotes() {
        let values: Vec<&str> = split_fields(APACHE).iter().map(|f| f.value).collect();
        assert_eq!(
            values,
            [
                "127.0.0.1",
                "-",
                "frank",
                "10/Oct/2000:13:25:15 -0700",
                "GET /apache_pb.gif HTTP/1.0",
                "200",
                "1534"
            ]
        );
    }

    #[test]
    fn named_fields_are_extracted_by_name() {
        assert_eq!(
            extract(
                "[ip, identity, user_id, timestamp, request, status_code, size]",
                APACHE
            ),
            Some(pairs(&[
                ("$ip", "127.0.0.1"),
                ("$identity", "-"),
                ("$user_id", "frank"),
                ("$timestamp", "10/Oct/2000:13:25:15 -0700"),
                ("$request", "GET /apache_pb.gif HTTP/1.0"),
                ("$status_code", "200"),
                ("$size", "1534"),
            ]))
        );
    }

    #[test]
    fn fields_under_an_ellipsis_or_without_a_name_are_extracted_by_position() {
        assert_eq!(
            extract("[..., size]", APACHE),
            Some(pairs(&[
                ("$1", "127.0.0.1"),
                ("$2", "-"),
                ("$3", "frank"),
                ("$4", "10/Oct/2000:13:25:15 -0700"),
                ("$5", "GET /apache_pb.gif HTTP/1.0"),
                ("$6", "200"),
                ("$size", "1534"),
            ]))
        );
        let all = extract("[]", APACHE).unwrap();
        assert_eq!(all.len(), 7);
        assert_eq!(all[6], ("$7".to_string(), "1534".to_string()));
        let html =
            r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;
        assert_eq!(
            extract("[..., request=*.html*, status_code=4*,]", html),
            Some(pairs(&[
                ("$1", "127.0.0.1"),
                ("$2", "-"),
                ("$3", "frank"),
                ("$4", "10/Oct/2000:13:25:15 -0700"),
                ("$request", "GET /index.html HTTP/1.0"),
                ("$status_code", "404"),
                ("$7", "1534"),
            ]))
        );
        assert_eq!(
            extract("[..., request=*.html*, status_code=4*,]", APACHE),
            None
        );
    }

    #[test]
    fn conditions_filter_on_text_wildcards_numbers_and_regexes() {
        assert!(extract("[..., status_code=200, size]", APACHE).is_some());
        assert!(extract("[..., status_code=500, size]", APACHE).is_none());
        assert!(
            extract(
                "[ip, user, username, timestamp, request, status_code, bytes > 1000]",
                APACHE
            )
            .is_some()
        );
        assert!(
            extract(
                "[ip, user, username, timestamp, request, status_code, bytes > 2000]",
                APACHE
            )
            .is_none()
        );
        assert!(extract(r"[ip=%127\.0\.0\.[1-9]%, user, username, timestamp, request =*.gif*, status_code = 2*, bytes]", APACHE).is_some());
        assert!(
            extract(
                "[ip, user, ..., status_code = 403 || status_code = 200, bytes]",
                APACHE
            )
            .is_some()
        );
        assert!(
            extract(
                "[ip, user, ..., status_code = 4* && status_code != 403, bytes]",
                APACHE
            )
            .is_none()
        );
        assert!(extract("[ip, user, ...]", APACHE).is_some());
    }

    #[test]
    fn the_last_field_takes_the_rest_of_the_event() {
        assert_eq!(matching("[w1=ERROR, w2]"), [3]);
        assert_eq!(matching("[w1=ERROR]"), Vec::<usize>::new());
        assert_eq!(matching("[w1=ERROR || w1=WARNING, w2]"), [2, 3]);
        assert_eq!(matching("[w1!=ERROR && w1!=WARNING, w2]"), [0, 1]);
        assert_eq!(
            extract("[level, rest]", APP[2]),
            Some(pairs(&[
                ("$level", "WARNING"),
                ("$rest", "09/25/2014 12:00:02 Invalid user request")
            ]))
        );
        assert!(extract("[a, b, c, d, e, f, g, h]", APACHE).is_none());
    }

    #[test]
    fn regexes_match_the_documented_resource_uris() {
        assert_eq!(
            matching(
                "[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]"
            ),
            [0]
        );
        assert_eq!(
            matching(
                "[logLevel, date, time, method, url=%/service/resource/[0-9]+/part/[0-9]+$%, response_time]"
            ),
            [1]
        );
        let pattern = DelimitedPattern::parse("[a=%x%, b=%y% || b=%z%]").unwrap();
        assert_eq!(pattern.regex_count(), 3);
    }

    #[test]
    fn malformed_patterns_are_refused() {
        for pattern in [
            "[ip user]",
            "[ip, status_code = 4* && bytes > 1000]",
            "[a = ]",
            "[a > x]",
            "[a = \"open]",
            "[=1]",
            "[a, b",
            "[a = x@y]",
        ] {
            assert!(
                DelimitedPattern::parse(pattern).is_err(),
                "{pattern} must be refused"
            );
        }
    }

    #[test]
    fn named_fields_are_known() {
        let pattern = DelimitedPattern::parse("[ip, ..., bytes > 10]").unwrap();
        assert!(pattern.names_field("bytes") && pattern.names_field("ip"));
        assert!(!pattern.names_field("user"));
    }
}
