//! The canonical rendering of a resolved rule: what PutCompositeAlarm receives.

use super::*;

impl ResolvedRule {
    /// The canonical expression for PutCompositeAlarm (see the module documentation).
    pub fn render(&self) -> String {
        let mut out = String::new();
        write_rule(&self.clone().normalize(), &mut out);
        out
    }
}

impl fmt::Display for Rule<String> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

fn write_rule(rule: &ResolvedRule, out: &mut String) {
    match rule {
        Rule::Const(true) => out.push_str("TRUE"),
        Rule::Const(false) => out.push_str("FALSE"),
        Rule::State { state, alarm } => {
            out.push_str(function_name(*state));
            out.push('(');
            write_quoted(alarm, out);
            out.push(')');
        }
        Rule::AtLeast {
            threshold,
            negated,
            state,
            alarms,
        } => {
            out.push_str("AT_LEAST(");
            out.push_str(&threshold.to_string());
            out.push_str(", ");
            if *negated {
                out.push_str("NOT ");
            }
            out.push_str(function_name(*state));
            out.push_str(", (");
            for (index, alarm) in alarms.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                write_listed(alarm, out);
            }
            out.push_str("))");
        }
        Rule::Not(inner) => {
            out.push_str("NOT ");
            write_operand(inner, out);
        }
        Rule::And(items) => write_group(items, " AND ", out),
        Rule::Or(items) => write_group(items, " OR ", out),
    }
}

fn write_group(items: &[ResolvedRule], operator: &str, out: &mut String) {
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push_str(operator);
        }
        write_operand(item, out);
    }
}

/// An operand of AND, OR or NOT: groups are parenthesised, everything else binds on its own.
fn write_operand(rule: &ResolvedRule, out: &mut String) {
    if matches!(rule, Rule::And(_) | Rule::Or(_)) {
        out.push('(');
        write_rule(rule, out);
        out.push(')');
    } else {
        write_rule(rule, out);
    }
}

/// AWS: names containing `"` "must enclose the `"` characters with backslash escape
/// characters"; nothing else is escaped.
pub(super) fn write_quoted(reference: &str, out: &mut String) {
    out.push('"');
    for c in reference.chars() {
        if c == '"' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// An alarm in an `AT_LEAST` list: bare, as AWS's examples and the CDK write the list, unless
/// it holds a character that would end a bare name there.
fn write_listed(reference: &str, out: &mut String) {
    if reference.is_empty() || reference.chars().any(ends_listed_name) {
        write_quoted(reference, out);
    } else {
        out.push_str(reference);
    }
}

/// Whether `c` ends an unquoted name inside `AT_LEAST(...)`.
pub(super) fn ends_listed_name(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"' | ',')
}

/// The canonical form of an expression, for comparing the rule AWS reports (DescribeAlarms
/// `AlarmRule`) with the desired one without being fooled by spacing or quoting.
pub fn canonical(expression: &str) -> Result<String, ParseError> {
    parse(expression).map(|rule| rule.render())
}
