use super::render::{ends_listed_name, write_quoted};
use super::*;
use crate::composite_alarm::spec::{
    AlarmCondition, AlarmRuleLeaf, AlarmRuleNode, AlarmRuleNode2, AlarmRuleNode3, AtLeastCondition,
    RuleConstant,
};
use proptest::prelude::*;

fn alarm(name: &str) -> ResolvedRule {
    Rule::State {
        state: AlarmState::Alarm,
        alarm: name.to_owned(),
    }
}

fn ok(name: &str) -> ResolvedRule {
    Rule::State {
        state: AlarmState::Ok,
        alarm: name.to_owned(),
    }
}

fn not(rule: ResolvedRule) -> ResolvedRule {
    Rule::Not(Box::new(rule))
}

fn at_least(threshold: Threshold, state: AlarmState, alarms: &[&str]) -> ResolvedRule {
    Rule::AtLeast {
        threshold,
        negated: false,
        state,
        alarms: alarms.iter().map(|name| (*name).to_owned()).collect(),
    }
}

fn at_least_not(threshold: Threshold, state: AlarmState, alarms: &[&str]) -> ResolvedRule {
    match at_least(threshold, state, alarms) {
        Rule::AtLeast {
            threshold,
            state,
            alarms,
            ..
        } => Rule::AtLeast {
            threshold,
            negated: true,
            state,
            alarms,
        },
        _ => unreachable!("at_least builds an AT_LEAST"),
    }
}

fn parsed(expression: &str) -> ResolvedRule {
    parse(expression).unwrap_or_else(|error| panic!("{expression:?}: {error}"))
}

fn error(expression: &str) -> String {
    match parse(expression) {
        Ok(rule) => panic!("{expression:?} parsed as {rule:?}"),
        Err(error) => error.to_string(),
    }
}

const ARN_A: &str = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a";

// --- grammar -----------------------------------------------------------------------------

#[test]
fn each_state_function_tests_its_state() {
    for state in STATES {
        let rule = parsed(&format!("{}(cpu)", function_name(state)));
        let expected = Rule::State {
            state,
            alarm: "cpu".to_owned(),
        };
        assert_eq!(rule, expected);
    }
}

#[test]
fn true_and_false_are_constants() {
    assert_eq!(parsed("TRUE"), Rule::Const(true));
    assert_eq!(parsed("FALSE"), Rule::Const(false));
}

#[test]
fn quoted_and_unquoted_names_are_the_same_reference() {
    assert_eq!(parsed(r#"ALARM("cpu-high")"#), parsed("ALARM(cpu-high)"));
}

#[test]
fn unquoted_name_runs_to_whitespace_or_parenthesis() {
    assert_eq!(parsed("ALARM(a.b-c_d:e,f/g)"), alarm("a.b-c_d:e,f/g"));
    assert_eq!(parsed("ALARM( spaced )"), alarm("spaced"));
    assert_eq!(parsed(&format!("ALARM({ARN_A})")), alarm(ARN_A));
}

#[test]
fn keywords_inside_a_function_are_alarm_names() {
    assert_eq!(parsed("ALARM(AND)"), alarm("AND"));
    assert_eq!(parsed(r#"OK("NOT")"#), ok("NOT"));
}

#[test]
fn quoted_name_keeps_spaces_parentheses_and_escaped_quotes() {
    assert_eq!(
        parsed(r#"ALARM("web (prod) \"eu\" 5xx")"#),
        alarm(r#"web (prod) "eu" 5xx"#)
    );
}

#[test]
fn backslash_not_before_a_quote_is_an_ordinary_character() {
    assert_eq!(parsed(r#"ALARM("a\b\\c")"#), alarm(r"a\b\\c"));
    assert_eq!(parsed(r"ALARM(a\b)"), alarm(r"a\b"));
}

#[test]
fn whitespace_and_line_breaks_between_tokens_are_ignored() {
    assert_eq!(
        parsed(" \tALARM ( a )\n AND\r\n  OK(\"b\")\n"),
        Rule::And(vec![alarm("a"), ok("b")])
    );
}

#[test]
fn parentheses_only_group() {
    assert_eq!(parsed("((ALARM(a)))"), alarm("a"));
}

#[test]
fn not_applies_to_the_operand_right_after_it() {
    assert_eq!(
        parsed("NOT ALARM(a) AND ALARM(b)"),
        Rule::And(vec![not(alarm("a")), alarm("b")])
    );
    assert_eq!(
        parsed("NOT(ALARM(a) OR ALARM(b))"),
        not(Rule::Or(vec![alarm("a"), alarm("b")]))
    );
}

#[test]
fn and_binds_tighter_than_or() {
    assert_eq!(
        parsed("ALARM(a) OR ALARM(b) AND ALARM(c)"),
        Rule::Or(vec![alarm("a"), Rule::And(vec![alarm("b"), alarm("c")])])
    );
    assert_eq!(
        parsed("ALARM(a) AND ALARM(b) OR ALARM(c)"),
        Rule::Or(vec![Rule::And(vec![alarm("a"), alarm("b")]), alarm("c")])
    );
}

#[test]
fn parentheses_override_precedence() {
    assert_eq!(
        parsed("(ALARM(a) OR ALARM(b)) AND ALARM(c)"),
        Rule::And(vec![Rule::Or(vec![alarm("a"), alarm("b")]), alarm("c")])
    );
}

#[test]
fn nested_chains_of_one_operator_are_flattened() {
    let flat = Rule::And(vec![alarm("a"), alarm("b"), alarm("c")]);
    assert_eq!(parsed("ALARM(a) AND (ALARM(b) AND ALARM(c))"), flat);
    assert_eq!(parsed("(ALARM(a) AND ALARM(b)) AND ALARM(c)"), flat);
    assert_eq!(
        parsed("(ALARM(a) OR (ALARM(b))) OR ALARM(c)"),
        Rule::Or(vec![alarm("a"), alarm("b"), alarm("c")])
    );
}

#[test]
fn double_negation_is_kept() {
    assert_eq!(parsed("NOT NOT ALARM(a)"), not(not(alarm("a"))));
    assert_eq!(parsed("NOT(NOT(ALARM(a)))"), not(not(alarm("a"))));
}

#[test]
fn aws_documented_examples_parse_and_render_canonically() {
    // PutCompositeAlarm API reference and "Creating a composite alarm".
    let examples = [
        (
            "ALARM(CPUUtilizationTooHigh) AND ALARM(DiskReadOpsTooHigh)",
            r#"ALARM("CPUUtilizationTooHigh") AND ALARM("DiskReadOpsTooHigh")"#,
        ),
        (
            "ALARM(CPUUtilizationTooHigh) AND NOT ALARM(DeploymentInProgress)",
            r#"ALARM("CPUUtilizationTooHigh") AND NOT ALARM("DeploymentInProgress")"#,
        ),
        (
            "(ALARM(CPUUtilizationTooHigh) OR ALARM(DiskReadOpsTooHigh)) AND \
             OK(NetworkOutTooHigh)",
            r#"(ALARM("CPUUtilizationTooHigh") OR ALARM("DiskReadOpsTooHigh")) AND OK("NetworkOutTooHigh")"#,
        ),
        (
            "(ALARM(\"CPUUtilizationTooHigh\") OR \nALARM(\"DiskReadOpsTooHigh\")) AND \n\
             OK(\"NetworkOutTooHigh\")",
            r#"(ALARM("CPUUtilizationTooHigh") OR ALARM("DiskReadOpsTooHigh")) AND OK("NetworkOutTooHigh")"#,
        ),
    ];
    for (expression, canonical) in examples {
        assert_eq!(parsed(expression).render(), canonical, "{expression}");
    }
}

#[test]
fn rules_written_by_aws_cdk_parse() {
    // The CDK renders fully parenthesised groups, `(NOT (...))` and quoted ARNs.
    let arn = |name: &str| format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}");
    let expression = format!(
        r#"(((ALARM("{}") OR OK("{}") OR ALARM("{}")) AND (NOT (INSUFFICIENT_DATA("{}")))) OR FALSE)"#,
        arn("a"),
        arn("b"),
        arn("c"),
        arn("d")
    );
    let expected = Rule::Or(vec![
        Rule::And(vec![
            Rule::Or(vec![alarm(&arn("a")), ok(&arn("b")), alarm(&arn("c"))]),
            not(Rule::State {
                state: AlarmState::InsufficientData,
                alarm: arn("d"),
            }),
        ]),
        Rule::Const(false),
    ]);
    assert_eq!(parsed(&expression), expected);
}

#[test]
fn at_least_takes_a_count_or_a_percentage_of_any_state_or_its_negation() {
    use Threshold::{Count, Percent};
    for state in STATES {
        let function = function_name(state);
        assert_eq!(
            parsed(&format!("AT_LEAST(2, {function}, (a, b, c))")),
            at_least(Count(2), state, &["a", "b", "c"])
        );
        assert_eq!(
            parsed(&format!("AT_LEAST(60%, NOT {function}, (a, b, c))")),
            at_least_not(Percent(60), state, &["a", "b", "c"])
        );
    }
}

#[test]
fn at_least_list_is_split_at_commas_and_a_comma_elsewhere_stays_in_the_name() {
    assert_eq!(
        parsed("AT_LEAST(1, ALARM, (a,b , c)) OR ALARM(d,e)"),
        Rule::Or(vec![
            at_least(Threshold::Count(1), AlarmState::Alarm, &["a", "b", "c"]),
            alarm("d,e"),
        ])
    );
    assert_eq!(
        parsed(r#"AT_LEAST(1, OK, ("x, y", "(z)", "say \"hi\""))"#),
        at_least(
            Threshold::Count(1),
            AlarmState::Ok,
            &["x, y", "(z)", r#"say "hi""#]
        )
    );
}

#[test]
fn at_least_accepts_any_spacing_and_line_breaks() {
    assert_eq!(
        parsed("AT_LEAST(\n 2 ,NOT\tOK ,\r\n( a ,b ) )"),
        at_least_not(Threshold::Count(2), AlarmState::Ok, &["a", "b"])
    );
    assert_eq!(
        parsed("AT_LEAST (2,ALARM,(a,b))"),
        at_least(Threshold::Count(2), AlarmState::Alarm, &["a", "b"])
    );
}

#[test]
fn at_least_is_an_operand_like_any_function() {
    let two = || at_least(Threshold::Count(2), AlarmState::Alarm, &["a", "b", "c"]);
    assert_eq!(
        parsed("NOT AT_LEAST(2, ALARM, (a, b, c)) AND ALARM(d)"),
        Rule::And(vec![not(two()), alarm("d")])
    );
    assert_eq!(
        parsed("ALARM(d) OR (AT_LEAST(2, ALARM, (a, b, c)))"),
        Rule::Or(vec![alarm("d"), two()])
    );
}

#[test]
fn keywords_and_numbers_inside_an_at_least_list_are_alarm_names() {
    assert_eq!(
        parsed("AT_LEAST(1, ALARM, (NOT, AND, ALARM, 2, AT_LEAST))"),
        at_least(
            Threshold::Count(1),
            AlarmState::Alarm,
            &["NOT", "AND", "ALARM", "2", "AT_LEAST"]
        )
    );
}

#[test]
fn at_least_rules_as_the_aws_cdk_writes_them_parse() {
    // AlarmRule.atLeast / atLeastNot: unquoted ARNs joined by ", ", inside the CDK's
    // parenthesised groups.
    let arn = |name: &str| format!("arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}");
    let expression = format!(
        "((AT_LEAST(2, ALARM, ({a}, {b}, {c})) AND AT_LEAST(60%, NOT OK, ({a}, {b}, {c}))) OR \
         FALSE)",
        a = arn("a"),
        b = arn("b"),
        c = arn("c")
    );
    let arns = [arn("a"), arn("b"), arn("c")];
    let arns: Vec<&str> = arns.iter().map(String::as_str).collect();
    assert_eq!(
        parsed(&expression),
        Rule::Or(vec![
            Rule::And(vec![
                at_least(Threshold::Count(2), AlarmState::Alarm, &arns),
                at_least_not(Threshold::Percent(60), AlarmState::Ok, &arns),
            ]),
            Rule::Const(false),
        ])
    );
}

// --- parse errors ------------------------------------------------------------------------

#[test]
fn empty_rule_is_rejected() {
    for expression in ["", "  \n\t"] {
        assert_eq!(
            error(expression),
            "the rule is empty; write at least one of ALARM(...), OK(...), \
             INSUFFICIENT_DATA(...), AT_LEAST(...), TRUE or FALSE"
        );
    }
}

#[test]
fn unquoted_name_with_a_space_points_at_the_second_word() {
    assert_eq!(
        error("ALARM(abcdefghi k)"),
        "expected ')' at column 17, found 'k'; an alarm name with spaces, parentheses or '\"' \
         must be written in double quotes"
    );
}

#[test]
fn unclosed_group_names_the_open_parenthesis() {
    assert_eq!(
        error("(ALARM(a) OR OK(b)"),
        "expected AND, OR or ')' at column 19, found the end of the rule; the '(' at column 1 \
         is never closed"
    );
    assert_eq!(
        error("(ALARM(a) XOR OK(b))"),
        "expected AND, OR or ')' at column 11, found 'XOR'"
    );
}

#[test]
fn unknown_function_is_named() {
    assert_eq!(
        error("FOO(a)"),
        "unknown function FOO at column 1; the rule functions are ALARM, OK, \
         INSUFFICIENT_DATA and AT_LEAST"
    );
}

#[test]
fn lower_case_function_or_literal_names_the_upper_case_keyword() {
    assert_eq!(
        error("alarm(a)"),
        "'alarm' at column 1 must be written in upper case: ALARM"
    );
    assert_eq!(
        error("ALARM(a) AND Insufficient_Data(b)"),
        "'Insufficient_Data' at column 14 must be written in upper case: INSUFFICIENT_DATA"
    );
    assert_eq!(
        error("true"),
        "'true' at column 1 must be written in upper case: TRUE"
    );
    assert_eq!(
        error("not ALARM(a)"),
        "'not' at column 1 must be written in upper case: NOT"
    );
}

#[test]
fn lower_case_operator_names_the_upper_case_keyword() {
    assert_eq!(
        error("ALARM(a) and OK(b)"),
        "expected AND, OR or the end of the rule at column 10, found 'and'; keywords are \
         written in upper case: AND"
    );
}

#[test]
fn malformed_at_least_is_rejected_where_it_breaks() {
    let threshold = "expected the AT_LEAST threshold, a count or a percentage (2 or 60%)";
    for (expression, message) in [
        (
            "AT_LEAST 2, ALARM, (a)",
            // Outside AT_LEAST(...) a comma is part of a word.
            "expected '(' after AT_LEAST at column 10, found '2,'".to_owned(),
        ),
        (
            "AT_LEAST(ALARM, (a))",
            format!("{threshold} at column 10, found 'ALARM'"),
        ),
        (
            "AT_LEAST(two, ALARM, (a))",
            format!("{threshold} at column 10, found 'two'"),
        ),
        (
            "AT_LEAST(2.5, ALARM, (a))",
            format!("{threshold} at column 10, found '2.5'"),
        ),
        (
            "AT_LEAST(-1, ALARM, (a))",
            format!("{threshold} at column 10, found '-1'"),
        ),
        (
            "AT_LEAST(+1, ALARM, (a))",
            format!("{threshold} at column 10, found '+1'"),
        ),
        (
            "AT_LEAST(%, ALARM, (a))",
            format!("{threshold} at column 10, found '%'"),
        ),
        (
            "AT_LEAST(4294967296, ALARM, (a))",
            format!("{threshold} at column 10, found '4294967296'"),
        ),
        (
            "AT_LEAST(60 %, ALARM, (a))",
            "expected ',' at column 13, found '%'".to_owned(),
        ),
        (
            "AT_LEAST(2 ALARM, (a))",
            "expected ',' at column 12, found 'ALARM'".to_owned(),
        ),
        (
            "AT_LEAST(2, ALRM, (a))",
            "expected ALARM, OK, INSUFFICIENT_DATA or NOT followed by one of them at column \
             13, found 'ALRM'"
                .to_owned(),
        ),
        (
            "AT_LEAST(2, alarm, (a))",
            "expected ALARM, OK, INSUFFICIENT_DATA or NOT followed by one of them at column \
             13, found 'alarm'; keywords are written in upper case: ALARM"
                .to_owned(),
        ),
        (
            "AT_LEAST(2, NOT NOT OK, (a))",
            "expected ALARM, OK or INSUFFICIENT_DATA after NOT at column 17, found 'NOT'"
                .to_owned(),
        ),
        (
            "AT_LEAST(2, ALARM, a, b)",
            "expected '(' opening the list of alarms at column 20, found 'a'".to_owned(),
        ),
        (
            "AT_LEAST(1, ALARM, ())",
            "expected an alarm name or ARN at column 21, found ')'".to_owned(),
        ),
        (
            "AT_LEAST(1, ALARM, (a, ))",
            "expected an alarm name or ARN at column 24, found ')'".to_owned(),
        ),
        (
            "AT_LEAST(1, ALARM, (a,, b))",
            "expected an alarm name or ARN at column 23, found ','".to_owned(),
        ),
        (
            r#"AT_LEAST(1, ALARM, (""))"#,
            "empty alarm name at column 21".to_owned(),
        ),
        (
            "AT_LEAST(1, ALARM, (web 1, web 2))",
            "expected ',' or the ')' closing the list at column 25, found '1'; in AT_LEAST an \
             alarm name with spaces, parentheses, '\"' or ',' must be written in double quotes"
                .to_owned(),
        ),
        (
            "AT_LEAST(1, ALARM, (a, b)",
            "expected ')' at column 26, found the end of the rule".to_owned(),
        ),
        (
            "AT_LEAST(1, ALARM, (a, b",
            "expected ',' or the ')' closing the list at column 25, found the end of the rule; \
             the '(' at column 20 is never closed"
                .to_owned(),
        ),
        (
            "AT_LEAST(1, ALARM, (a), b)",
            "expected ')' at column 23, found ','".to_owned(),
        ),
        (
            "at_least(1, ALARM, (a))",
            "'at_least' at column 1 must be written in upper case: AT_LEAST".to_owned(),
        ),
    ] {
        assert_eq!(error(expression), message, "{expression}");
    }
}

#[test]
fn unterminated_quoted_name_points_at_its_opening_quote() {
    assert_eq!(
        error(r#"ALARM(a) OR ALARM("abc"#),
        "the quoted alarm name starting at column 19 has no closing '\"'"
    );
    // An escaped quote does not close the name.
    assert_eq!(
        error(r#"ALARM("abc\")"#),
        "the quoted alarm name starting at column 7 has no closing '\"'"
    );
}

#[test]
fn syntax_error_before_an_unterminated_name_is_reported_first() {
    assert_eq!(
        error(r#"ALARM(a) XOR "abc"#),
        "expected AND, OR or the end of the rule at column 10, found 'XOR'"
    );
}

#[test]
fn empty_or_missing_alarm_name_is_rejected() {
    assert_eq!(error(r#"ALARM("")"#), "empty alarm name at column 7");
    assert_eq!(
        error("ALARM()"),
        "expected an alarm name or ARN at column 7, found ')'"
    );
}

#[test]
fn function_without_parenthesis_is_rejected() {
    assert_eq!(
        error("ALARM a"),
        "expected '(' after ALARM at column 7, found 'a'"
    );
}

#[test]
fn bare_alarm_name_is_rejected_with_a_hint() {
    assert_eq!(
        error("CPUHigh AND OK(b)"),
        "expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), AT_LEAST(...), TRUE, FALSE, \
         NOT or '(' at column 1, found 'CPUHigh'; alarm names go inside ALARM(...), OK(...), \
         INSUFFICIENT_DATA(...) or AT_LEAST(...)"
    );
    assert_eq!(
        error(r#"ALARM(a) OR "b""#),
        "expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), AT_LEAST(...), TRUE, FALSE, \
         NOT or '(' at column 13, found \"b\"; alarm names go inside ALARM(...), OK(...), \
         INSUFFICIENT_DATA(...) or AT_LEAST(...)"
    );
}

#[test]
fn missing_operands_are_rejected() {
    let operand = "expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), AT_LEAST(...), TRUE, \
                   FALSE, NOT or '('";
    assert_eq!(
        error("ALARM(a) AND"),
        format!("{operand} at column 13, found the end of the rule")
    );
    assert_eq!(
        error("ALARM(a) AND OR OK(b)"),
        format!("{operand} at column 14, found 'OR'")
    );
    assert_eq!(
        error("ALARM(a) AND or OK(b)"),
        format!("{operand} at column 14, found 'or'; keywords are written in upper case: OR")
    );
    assert_eq!(error("()"), format!("{operand} at column 2, found ')'"));
    assert_eq!(
        error("NOT"),
        format!("{operand} at column 4, found the end of the rule")
    );
}

#[test]
fn trailing_input_is_rejected() {
    assert_eq!(
        error("ALARM(a))"),
        "expected AND, OR or the end of the rule at column 9, found ')'"
    );
    assert_eq!(
        error("ALARM(a) OK(b)"),
        "expected AND, OR or the end of the rule at column 10, found 'OK'"
    );
}

#[test]
fn positions_on_later_lines_give_line_and_column() {
    assert_eq!(
        error("ALARM(a) AND\n  FOO(b)"),
        "unknown function FOO at line 2, column 3; the rule functions are ALARM, OK, \
         INSUFFICIENT_DATA and AT_LEAST"
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    assert_eq!(
        error(r#"ALARM("é") FOO"#),
        "expected AND, OR or the end of the rule at column 12, found 'FOO'"
    );
}

#[test]
fn nesting_deeper_than_the_element_limit_is_rejected_without_overflowing() {
    let deep = |depth: usize| format!("{}TRUE{}", "(".repeat(depth), ")".repeat(depth));
    assert_eq!(parsed(&deep(MAX_ELEMENTS)), Rule::Const(true));
    assert_eq!(
        error(&deep(MAX_ELEMENTS + 1)),
        "parentheses at column 501 are nested more than 500 deep; AWS allows at most 500 \
         elements in a rule"
    );
    assert!(parse(&deep(100_000)).is_err());
}

#[test]
fn long_run_of_not_parses_without_recursion() {
    let expression = format!("{}ALARM(a)", "NOT ".repeat(2_000));
    let rule = parsed(&expression);
    assert_eq!(
        rule.render(),
        format!("{}ALARM(\"a\")", "NOT ".repeat(2_000))
    );
}

// --- rendering ---------------------------------------------------------------------------

#[test]
fn rendering_quotes_names_upper_cases_keywords_and_uses_single_spaces() {
    let rule = Rule::And(vec![
        alarm("a"),
        not(ok("b")),
        Rule::State {
            state: AlarmState::InsufficientData,
            alarm: "c".to_owned(),
        },
        Rule::Const(true),
    ]);
    assert_eq!(
        rule.render(),
        r#"ALARM("a") AND NOT OK("b") AND INSUFFICIENT_DATA("c") AND TRUE"#
    );
}

#[test]
fn rendering_parenthesises_every_group_inside_another_operator() {
    // AWS does not document AND over OR, so the rendering never relies on it.
    let rule = Rule::Or(vec![alarm("a"), Rule::And(vec![alarm("b"), alarm("c")])]);
    assert_eq!(
        rule.render(),
        r#"ALARM("a") OR (ALARM("b") AND ALARM("c"))"#
    );
    let rule = not(Rule::And(vec![alarm("a"), alarm("b")]));
    assert_eq!(rule.render(), r#"NOT (ALARM("a") AND ALARM("b"))"#);
}

#[test]
fn rendering_escapes_double_quotes_and_nothing_else() {
    let rule = alarm(r#"say "hi" \ now"#);
    assert_eq!(rule.render(), r#"ALARM("say \"hi\" \ now")"#);
    assert_eq!(parsed(&rule.render()), rule);
}

#[test]
fn rendering_keeps_an_arn_as_written() {
    assert_eq!(alarm(ARN_A).render(), format!("ALARM(\"{ARN_A}\")"));
}

#[test]
fn rendering_flattens_and_unwraps_groups() {
    let rule = Rule::And(vec![
        Rule::And(vec![alarm("a"), Rule::Or(vec![alarm("b")])]),
        Rule::And(vec![alarm("c")]),
    ]);
    assert_eq!(rule.render(), r#"ALARM("a") AND ALARM("b") AND ALARM("c")"#);
}

#[test]
fn at_least_renders_its_list_bare_and_quotes_only_names_that_need_it() {
    let rule = at_least_not(
        Threshold::Percent(60),
        AlarmState::InsufficientData,
        &[
            ARN_A,
            "web-1",
            "web 2",
            "a,b",
            "(c)",
            r#"say "hi""#,
            r"back\slash",
        ],
    );
    let rendered = format!(
        r#"AT_LEAST(60%, NOT INSUFFICIENT_DATA, ({ARN_A}, web-1, "web 2", "a,b", "(c)", "say \"hi\"", back\slash))"#
    );
    assert_eq!(rule.render(), rendered);
    assert_eq!(parsed(&rendered), rule);
    assert_eq!(
        at_least(Threshold::Count(1), AlarmState::Ok, &["a"]).render(),
        "AT_LEAST(1, OK, (a))"
    );
}

#[test]
fn at_least_needs_no_parentheses_as_an_operand() {
    let two = at_least(Threshold::Count(2), AlarmState::Alarm, &["a", "b"]);
    let rule = Rule::And(vec![not(two.clone()), Rule::Or(vec![two, alarm("c")])]);
    assert_eq!(
        rule.render(),
        r#"NOT AT_LEAST(2, ALARM, (a, b)) AND (AT_LEAST(2, ALARM, (a, b)) OR ALARM("c"))"#
    );
}

#[test]
fn canonical_at_least_ignores_spacing_quoting_and_leading_zeros() {
    assert_eq!(
        canonical(r#"AT_LEAST( 02 ,ALARM,("a",b))"#).unwrap(),
        "AT_LEAST(2, ALARM, (a, b))"
    );
    assert_ne!(
        canonical("AT_LEAST(2, ALARM, (a, b))").unwrap(),
        canonical("AT_LEAST(2%, ALARM, (a, b))").unwrap(),
        "a count and a percentage differ"
    );
    assert_ne!(
        canonical("AT_LEAST(2, ALARM, (a, b))").unwrap(),
        canonical("AT_LEAST(2, NOT ALARM, (a, b))").unwrap(),
        "NOT changes the meaning"
    );
}

#[test]
fn empty_groups_render_as_their_identity() {
    assert_eq!(Rule::<String>::And(vec![]).render(), "TRUE");
    assert_eq!(Rule::<String>::Or(vec![]).render(), "FALSE");
}

#[test]
fn canonical_form_ignores_spacing_and_quoting() {
    assert_eq!(
        canonical("ALARM(a)  AND\n(OK(\"b\"))").unwrap(),
        canonical(r#"ALARM("a") AND OK(b)"#).unwrap()
    );
}

#[test]
fn rule_reads_and_prints_through_from_str_and_display() {
    let rule: ResolvedRule = "ALARM(a) OR OK(b)".parse().unwrap();
    assert_eq!(rule.to_string(), r#"ALARM("a") OR OK("b")"#);
}

// --- validation --------------------------------------------------------------------------

fn problems<A: AlarmReference>(rule: &Rule<A>) -> Vec<RuleProblem> {
    rule.validate()
        .err()
        .map(|invalid| invalid.problems)
        .unwrap_or_default()
}

#[test]
fn valid_rule_passes_validation() {
    let rule = parsed("(ALARM(a) OR ALARM(b)) AND NOT OK(c) AND TRUE");
    assert_eq!(rule.validate(), Ok(()));
}

#[test]
fn empty_groups_are_reported_with_their_path() {
    let rule: Rule = Rule::And(vec![
        Rule::Or(vec![]),
        Rule::Not(Box::new(Rule::And(vec![]))),
    ]);
    let invalid = rule.validate().unwrap_err();
    assert_eq!(
        invalid.problems,
        vec![
            RuleProblem::EmptyGroup {
                operator: "OR (anyOf)",
                at: "allOf[0]".to_owned()
            },
            RuleProblem::EmptyGroup {
                operator: "AND (allOf)",
                at: "allOf[1].not".to_owned()
            },
        ]
    );
    assert_eq!(
        invalid.to_string(),
        "invalid composite alarm rule: the OR (anyOf) group at allOf[0] has no operands; give \
         it at least one; the AND (allOf) group at allOf[1].not has no operands; give it at \
         least one"
    );
    let top: Rule = Rule::Or(vec![]);
    assert_eq!(
        top.validate().unwrap_err().to_string(),
        "invalid composite alarm rule: the OR (anyOf) group at the top level has no \
         operands; give it at least one"
    );
}

fn or_of_names(names: impl IntoIterator<Item = String>) -> ResolvedRule {
    Rule::Or(names.into_iter().map(|name| alarm(&name)).collect())
}

#[test]
fn at_most_one_hundred_distinct_children() {
    let names = |count: usize| (0..count).map(|i| format!("alarm-{i}"));
    assert_eq!(or_of_names(names(MAX_CHILDREN)).validate(), Ok(()));
    assert_eq!(
        problems(&or_of_names(names(MAX_CHILDREN + 1))),
        vec![RuleProblem::TooManyChildren { count: 101 }]
    );
}

#[test]
fn repeated_child_and_its_arn_count_as_one_child() {
    let mut names: Vec<String> = (0..MAX_CHILDREN).map(|i| format!("alarm-{i}")).collect();
    names.push("alarm-0".to_owned());
    names.push("arn:aws:cloudwatch:us-east-1:123456789012:alarm:alarm-1".to_owned());
    assert_eq!(or_of_names(names).validate(), Ok(()));
}

#[test]
fn at_most_five_hundred_elements_counting_groups() {
    let repeated = |count: usize| or_of_names((0..count).map(|i| format!("a{}", i % 10)));
    assert_eq!(repeated(MAX_ELEMENTS).validate(), Ok(()));
    assert_eq!(
        problems(&repeated(MAX_ELEMENTS + 1)),
        vec![RuleProblem::TooManyElements { count: 501 }]
    );
    // Four functions and two parenthesised groups.
    let grouped = parsed("(ALARM(a) AND ALARM(b)) OR (ALARM(c) AND NOT (OK(d)))");
    assert_eq!(grouped.element_count(), 6);
}

/// An OR of `lengths.len()` distinct names whose rendering has exactly `total` characters.
fn rule_rendering_to(total: usize) -> ResolvedRule {
    // `ALARM("name")` is 9 + len characters and " OR " is 4: 39 terms leave 9,737 for names.
    let terms = 39;
    let mut remaining = total - (terms * 9 + (terms - 1) * 4);
    let names = (0..terms).map(|i| {
        let length = if i + 1 == terms { remaining } else { 250 };
        remaining -= length;
        format!("{i:03}{}", "x".repeat(length - 3))
    });
    or_of_names(names.collect::<Vec<_>>())
}

#[test]
fn rendered_length_is_at_most_10240_characters() {
    let longest = rule_rendering_to(MAX_RULE_CHARS);
    assert_eq!(longest.render().chars().count(), MAX_RULE_CHARS);
    assert_eq!(longest.validate(), Ok(()));
    let too_long = rule_rendering_to(MAX_RULE_CHARS + 1);
    assert_eq!(
        problems(&too_long),
        vec![RuleProblem::TooLong { length: 10_241 }]
    );
}

#[test]
fn unusable_references_are_each_reported_once() {
    let long = "n".repeat(256);
    let rule = Rule::Or(vec![
        alarm("arn:aws:sns:us-east-1:123456789012:topic"),
        alarm(&long),
        alarm(&format!(
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{long}"
        )),
        alarm(r"ends\"),
        alarm(r"ends\"),
        alarm(""),
    ]);
    assert_eq!(
        problems(&rule),
        vec![
            RuleProblem::NotAnAlarmArn {
                reference: "arn:aws:sns:us-east-1:123456789012:topic".to_owned()
            },
            RuleProblem::AlarmNameTooLong {
                name: long.clone(),
                length: 256
            },
            RuleProblem::AlarmNameTooLong {
                name: long.clone(),
                length: 256
            },
            RuleProblem::TrailingBackslash {
                reference: r"ends\".to_owned()
            },
            RuleProblem::EmptyAlarmName {
                at: "anyOf[5]".to_owned()
            },
        ]
    );
    assert_eq!(
        RuleProblem::TrailingBackslash {
            reference: r"ends\".to_owned()
        }
        .to_string(),
        r#"alarm reference "ends\" ends with a backslash, which AWS reads as escaping the closing quote; such an alarm cannot be named in a rule"#
    );
}

#[test]
fn at_least_count_is_one_to_the_number_listed() {
    let three = ["a", "b", "c"];
    for count in [1, 3] {
        let rule = at_least(Threshold::Count(count), AlarmState::Alarm, &three);
        assert_eq!(rule.validate(), Ok(()), "{count}");
    }
    for count in [0, 4] {
        let rule = Rule::Or(vec![
            alarm("x"),
            at_least(Threshold::Count(count), AlarmState::Alarm, &three),
        ]);
        assert_eq!(
            problems(&rule),
            vec![RuleProblem::AtLeastCountOutOfRange {
                at: "anyOf[1]".to_owned(),
                count: i64::from(count),
                alarms: 3
            }],
            "{count}"
        );
    }
    assert_eq!(
        RuleProblem::AtLeastCountOutOfRange {
            at: "anyOf[1]".to_owned(),
            count: 4,
            alarms: 3
        }
        .to_string(),
        "the AT_LEAST (atLeast) count at anyOf[1] is 4; it must be from 1 to the number of \
         alarms listed (3)"
    );
}

#[test]
fn at_least_percentage_is_one_to_one_hundred() {
    for percent in [1, 100] {
        let rule = at_least(Threshold::Percent(percent), AlarmState::Ok, &["a"]);
        assert_eq!(rule.validate(), Ok(()), "{percent}");
    }
    for percent in [0, 101, u32::MAX] {
        let rule = at_least(Threshold::Percent(percent), AlarmState::Ok, &["a"]);
        assert_eq!(
            problems(&rule),
            vec![RuleProblem::AtLeastPercentOutOfRange {
                at: String::new(),
                percent: i64::from(percent)
            }],
            "{percent}"
        );
    }
    assert_eq!(
        problems(&parsed("AT_LEAST(101%, OK, (a))"))[0].to_string(),
        "the AT_LEAST (atLeast) percentage at the top level is 101%; it must be from 1% to 100%"
    );
}

#[test]
fn at_least_lists_each_alarm_once_an_arn_being_its_name() {
    let rule = parsed(&format!(
        "AT_LEAST(1, ALARM, (a, b, {ARN_A}, a)) AND AT_LEAST(1, OK, (a, b))"
    ));
    assert_eq!(
        problems(&rule),
        vec![RuleProblem::AtLeastRepeatsAlarm {
            at: "allOf[0]".to_owned(),
            alarm: ChildRef::Name("a".to_owned())
        }]
    );
    assert_eq!(
        problems(&rule)[0].to_string(),
        "the AT_LEAST (atLeast) at allOf[0] lists alarm \"a\" more than once; list each alarm \
         once, so that the threshold counts what it says"
    );
}

#[test]
fn an_empty_at_least_is_reported_once() {
    let rule = at_least(Threshold::Count(1), AlarmState::Alarm, &[]);
    assert_eq!(
        problems(&rule),
        vec![RuleProblem::EmptyAtLeast { at: String::new() }]
    );
}

#[test]
fn at_least_alarms_count_toward_the_one_hundred_children() {
    let names: Vec<String> = (0..MAX_CHILDREN).map(|i| format!("alarm-{i}")).collect();
    let listed: Vec<&str> = names.iter().map(String::as_str).collect();
    let hundred = at_least(Threshold::Percent(50), AlarmState::Alarm, &listed);
    assert_eq!(hundred.validate(), Ok(()));
    // The same alarms named again outside the list are not new children.
    let again = Rule::Or(vec![hundred.clone(), alarm("alarm-0"), ok(&names[99])]);
    assert_eq!(again.validate(), Ok(()));
    let one_more = Rule::Or(vec![hundred, alarm("alarm-100")]);
    assert_eq!(
        problems(&one_more),
        vec![RuleProblem::TooManyChildren { count: 101 }]
    );
}

#[test]
fn at_least_counts_its_list_and_each_alarm_as_elements() {
    assert_eq!(
        parsed("AT_LEAST(1, ALARM, (a, b, c)) OR ALARM(d)").element_count(),
        5
    );
    assert_eq!(
        parsed("NOT (AT_LEAST(1, ALARM, (a)) AND TRUE)").element_count(),
        4
    );
}

#[test]
fn at_least_alarms_are_checked_like_any_reference() {
    let long = "n".repeat(256);
    let rule = at_least(
        Threshold::Count(1),
        AlarmState::Alarm,
        &["arn:aws:sns:us-east-1:123456789012:topic", &long, r"ends\"],
    );
    assert_eq!(
        problems(&rule),
        vec![
            RuleProblem::NotAnAlarmArn {
                reference: "arn:aws:sns:us-east-1:123456789012:topic".to_owned()
            },
            RuleProblem::AlarmNameTooLong {
                name: long.clone(),
                length: 256
            },
            RuleProblem::TrailingBackslash {
                reference: r"ends\".to_owned()
            },
        ]
    );
}

#[test]
fn rendered_length_limit_counts_at_least_lists() {
    // `AT_LEAST(1, ALARM, (` and `))` are 22 characters, each of n names of 255 adds ", ".
    let names: Vec<String> = (0..40)
        .map(|i| format!("{i:03}{}", "x".repeat(252)))
        .collect();
    let listed: Vec<&str> = names.iter().map(String::as_str).collect();
    let rule = at_least(Threshold::Count(1), AlarmState::Alarm, &listed);
    let length = rule.render().chars().count();
    assert_eq!(length, 22 + 40 * 255 + 39 * 2);
    assert_eq!(
        problems(&rule),
        vec![RuleProblem::TooLong { length }],
        "{length} characters"
    );
}

#[test]
fn unresolved_rule_is_validated_except_for_its_length() {
    let rule: Rule = Rule::And(vec![
        Rule::State {
            state: AlarmState::Alarm,
            alarm: ChildRef::Object(String::new()),
        },
        Rule::State {
            state: AlarmState::Ok,
            alarm: ChildRef::Object("x".repeat(20_000)),
        },
    ]);
    assert_eq!(
        problems(&rule),
        vec![RuleProblem::EmptyObjectName {
            at: "allOf[0]".to_owned()
        }]
    );
}

// --- references --------------------------------------------------------------------------

fn object(name: &str) -> Rule {
    Rule::State {
        state: AlarmState::Alarm,
        alarm: ChildRef::Object(name.to_owned()),
    }
}

#[test]
fn resolving_replaces_alarm_objects_with_their_aws_names() {
    let rule: Rule = Rule::And(vec![object("cpu"), Rule::from(ok("disk"))]);
    let resolved = rule
        .resolve(|name| (name == "cpu").then(|| "prod-cpu-high".to_owned()))
        .unwrap();
    assert_eq!(
        resolved,
        Rule::And(vec![alarm("prod-cpu-high"), ok("disk")])
    );
}

#[test]
fn resolving_lists_every_missing_object_once_sorted() {
    let rule: Rule = Rule::Or(vec![object("zeta"), object("alpha"), object("zeta")]);
    let unresolved = rule.resolve(|_| None).unwrap_err();
    assert_eq!(
        unresolved.objects,
        BTreeSet::from(["alpha".to_owned(), "zeta".to_owned()])
    );
    assert_eq!(
        unresolved.to_string(),
        "the rule references Alarm objects that do not exist or have no AWS alarm yet: \
         alpha, zeta"
    );
}

#[test]
fn children_reduce_arns_to_names_and_appear_once() {
    let rule: Rule = Rule::And(vec![
        Rule::from(parsed(&format!("ALARM(a) OR OK({ARN_A}) OR ALARM(b)"))),
        object("cpu"),
        object("cpu"),
    ]);
    assert_eq!(
        children(&rule),
        BTreeSet::from([
            ChildRef::Name("a".to_owned()),
            ChildRef::Name("b".to_owned()),
            ChildRef::Object("cpu".to_owned()),
        ])
    );
    let resolved = parsed(&format!("ALARM(a) OR OK({ARN_A}) OR ALARM(b)"));
    assert_eq!(
        child_names(&resolved),
        BTreeSet::from(["a".to_owned(), "b".to_owned()])
    );
}

#[test]
fn at_least_alarm_objects_are_resolved_waited_for_and_are_children() {
    let rule: Rule = Rule::Or(vec![
        Rule::AtLeast {
            threshold: Threshold::Count(2),
            negated: true,
            state: AlarmState::Ok,
            alarms: vec![
                ChildRef::Object("web-1".to_owned()),
                ChildRef::Object("web-2".to_owned()),
                ChildRef::Name(ARN_A.to_owned()),
            ],
        },
        object("db"),
    ]);
    assert_eq!(
        children(&rule),
        BTreeSet::from([
            ChildRef::Name("a".to_owned()),
            ChildRef::Object("db".to_owned()),
            ChildRef::Object("web-1".to_owned()),
            ChildRef::Object("web-2".to_owned()),
        ])
    );
    let unresolved = rule
        .resolve(|object| (object == "db").then(|| "prod-db".to_owned()))
        .unwrap_err();
    assert_eq!(
        unresolved.objects,
        BTreeSet::from(["web-1".to_owned(), "web-2".to_owned()])
    );
    let resolved = rule
        .resolve(|object| Some(format!("prod-{object}")))
        .unwrap();
    assert_eq!(
        resolved.render(),
        format!(r#"AT_LEAST(2, NOT OK, (prod-web-1, prod-web-2, {ARN_A})) OR ALARM("prod-db")"#)
    );
    assert_eq!(
        child_names(&resolved),
        BTreeSet::from([
            "a".to_owned(),
            "prod-db".to_owned(),
            "prod-web-1".to_owned(),
            "prod-web-2".to_owned()
        ])
    );
}

#[test]
fn two_alarm_objects_resolving_to_one_alarm_are_a_repeat_once_resolved() {
    let rule: Rule = Rule::AtLeast {
        threshold: Threshold::Count(1),
        negated: false,
        state: AlarmState::Alarm,
        alarms: vec![
            ChildRef::Object("cpu".to_owned()),
            ChildRef::Object("cpu-alias".to_owned()),
        ],
    };
    assert_eq!(rule.validate(), Ok(()));
    let resolved = rule.resolve(|_| Some("prod-cpu".to_owned())).unwrap();
    assert_eq!(
        problems(&resolved),
        vec![RuleProblem::AtLeastRepeatsAlarm {
            at: String::new(),
            alarm: ChildRef::Name("prod-cpu".to_owned())
        }]
    );
}

#[test]
fn alarm_arns_yield_their_name_in_every_partition() {
    assert_eq!(alarm_name(ARN_A), "a");
    assert_eq!(
        alarm_name("arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:x:y"),
        "x:y"
    );
    assert_eq!(
        alarm_name("arn:aws-us-gov:cloudwatch:us-gov-west-1:123456789012:alarm:g"),
        "g"
    );
    assert_eq!(alarm_name("plain-name"), "plain-name");
    assert_eq!(
        alarm_name("arn:aws:sns:us-east-1:1:alarm:x"),
        "arn:aws:sns:us-east-1:1:alarm:x"
    );
    assert!(!is_alarm_arn(
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"
    ));
}

// --- the structured form -----------------------------------------------------------------

fn alarm_ref(object: &str, state: AlarmState) -> AlarmCondition {
    AlarmCondition {
        alarm_ref: Some(object.to_owned()),
        alarm_name: None,
        state,
    }
}

fn alarm_named(name: &str) -> AlarmCondition {
    AlarmCondition {
        alarm_ref: None,
        alarm_name: Some(name.to_owned()),
        state: AlarmState::Alarm,
    }
}

#[test]
fn structured_rule_converts_node_for_node() {
    // anyOf: [ {alarm: {alarmRef: cpu}}, {allOf: [ {not: {alarm: {alarmName: deploy}}},
    //          {alarm: {alarmRef: disk, state: OK}} ]}, {constant: "FALSE"} ]
    let node = AlarmRuleNode {
        any_of: vec![
            AlarmRuleNode2 {
                alarm: Some(alarm_ref("cpu", AlarmState::Alarm)),
                ..Default::default()
            },
            AlarmRuleNode2 {
                all_of: vec![
                    AlarmRuleNode3 {
                        not: Some(Box::new(AlarmRuleLeaf {
                            alarm: Some(alarm_named("deploy")),
                            ..Default::default()
                        })),
                        ..Default::default()
                    },
                    AlarmRuleNode3 {
                        alarm: Some(alarm_ref("disk", AlarmState::Ok)),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            },
            AlarmRuleNode2 {
                constant: Some(RuleConstant::False),
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let expected: Rule = Rule::Or(vec![
        object("cpu"),
        Rule::And(vec![
            Rule::Not(Box::new(Rule::State {
                state: AlarmState::Alarm,
                alarm: ChildRef::Name("deploy".to_owned()),
            })),
            Rule::State {
                state: AlarmState::Ok,
                alarm: ChildRef::Object("disk".to_owned()),
            },
        ]),
        Rule::Const(false),
    ]);
    assert_eq!(Rule::try_from(&node), Ok(expected));

    let resolved = Rule::try_from(&node)
        .unwrap()
        .resolve(|object| Some(format!("prod-{object}")))
        .unwrap();
    assert_eq!(
        resolved.render(),
        r#"ALARM("prod-cpu") OR (NOT ALARM("deploy") AND OK("prod-disk")) OR FALSE"#
    );
}

#[test]
fn structured_rule_reaches_the_fourth_level() {
    let leaf = AlarmRuleLeaf {
        alarm: Some(alarm_named("deepest")),
        at_least: None,
        constant: None,
    };
    let node = AlarmRuleNode {
        not: Some(Box::new(AlarmRuleNode2 {
            not: Some(Box::new(AlarmRuleNode3 {
                all_of: vec![leaf],
                ..Default::default()
            })),
            ..Default::default()
        })),
        ..Default::default()
    };
    let rule = Rule::try_from(&node).unwrap();
    assert_eq!(
        rule.resolve(|_| None).unwrap().render(),
        r#"NOT NOT ALARM("deepest")"#
    );
}

#[test]
fn structured_condition_with_no_field_or_several_is_reported_with_its_path() {
    let node = AlarmRuleNode {
        all_of: vec![
            AlarmRuleNode2::default(),
            AlarmRuleNode2 {
                constant: Some(RuleConstant::True),
                alarm: Some(alarm_named("a")),
                ..Default::default()
            },
            AlarmRuleNode2 {
                alarm: Some(AlarmCondition {
                    alarm_ref: Some("cpu".to_owned()),
                    alarm_name: Some("cpu".to_owned()),
                    state: AlarmState::Alarm,
                }),
                ..Default::default()
            },
            AlarmRuleNode2 {
                alarm: Some(AlarmCondition::default()),
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let invalid = Rule::try_from(&node).unwrap_err();
    let messages: Vec<String> = invalid.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        vec![
            "the rule condition at allOf[0] sets none of them; set exactly one of anyOf, \
             allOf, not, alarm, atLeast or constant",
            "the rule condition at allOf[1] sets alarm and constant; set exactly one of \
             anyOf, allOf, not, alarm, atLeast or constant",
            "the alarm condition at allOf[2].alarm sets alarmRef and alarmName; set exactly \
             one of alarmRef or alarmName",
            "the alarm condition at allOf[3].alarm sets none of them; set exactly one of \
             alarmRef or alarmName",
        ]
    );
    let empty = AlarmRuleNode::default();
    assert_eq!(
        Rule::try_from(&empty).unwrap_err().to_string(),
        "invalid composite alarm rule: the rule condition at the top level sets none of \
         them; set exactly one of anyOf, allOf, not, alarm, atLeast or constant"
    );
}

fn at_least_condition(
    count: Option<i32>,
    percent: Option<i32>,
    refs: &[&str],
    names: &[&str],
) -> AtLeastCondition {
    AtLeastCondition {
        count,
        percent,
        state: AlarmState::Alarm,
        not: false,
        alarm_refs: refs.iter().map(|r| (*r).to_owned()).collect(),
        alarm_names: names.iter().map(|n| (*n).to_owned()).collect(),
    }
}

#[test]
fn structured_at_least_lists_its_alarm_objects_then_its_names() {
    let mut condition = at_least_condition(None, Some(50), &["web-2", "web-1"], &["legacy"]);
    condition.state = AlarmState::InsufficientData;
    condition.not = true;
    let node = AlarmRuleNode {
        all_of: vec![
            AlarmRuleNode2 {
                at_least: Some(condition),
                ..Default::default()
            },
            AlarmRuleNode2 {
                not: Some(Box::new(AlarmRuleNode3 {
                    any_of: vec![AlarmRuleLeaf {
                        at_least: Some(at_least_condition(Some(1), None, &[], &["deep"])),
                        ..Default::default()
                    }],
                    ..Default::default()
                })),
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let expected: Rule = Rule::And(vec![
        Rule::AtLeast {
            threshold: Threshold::Percent(50),
            negated: true,
            state: AlarmState::InsufficientData,
            alarms: vec![
                ChildRef::Object("web-2".to_owned()),
                ChildRef::Object("web-1".to_owned()),
                ChildRef::Name("legacy".to_owned()),
            ],
        },
        Rule::Not(Box::new(Rule::Or(vec![Rule::AtLeast {
            threshold: Threshold::Count(1),
            negated: false,
            state: AlarmState::Alarm,
            alarms: vec![ChildRef::Name("deep".to_owned())],
        }]))),
    ]);
    assert_eq!(Rule::try_from(&node), Ok(expected));
    let resolved = Rule::try_from(&node)
        .unwrap()
        .resolve(|object| Some(format!("prod-{object}")))
        .unwrap();
    assert_eq!(
        resolved.render(),
        "AT_LEAST(50%, NOT INSUFFICIENT_DATA, (prod-web-2, prod-web-1, legacy)) AND NOT \
         AT_LEAST(1, ALARM, (deep))"
    );
}

#[test]
fn structured_at_least_threshold_shape_and_sign_are_reported_with_their_path() {
    let node = AlarmRuleNode {
        any_of: vec![
            AlarmRuleNode2 {
                at_least: Some(at_least_condition(Some(1), Some(50), &["a"], &[])),
                ..Default::default()
            },
            AlarmRuleNode2 {
                at_least: Some(at_least_condition(None, None, &["a"], &[])),
                ..Default::default()
            },
            AlarmRuleNode2 {
                at_least: Some(at_least_condition(Some(-2), None, &["a"], &[])),
                ..Default::default()
            },
            AlarmRuleNode2 {
                at_least: Some(at_least_condition(None, Some(-5), &["a"], &[])),
                ..Default::default()
            },
            AlarmRuleNode2 {
                alarm: Some(alarm_named("a")),
                at_least: Some(at_least_condition(Some(1), None, &["a"], &[])),
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let messages: Vec<String> = Rule::try_from(&node)
        .unwrap_err()
        .problems
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        messages,
        vec![
            "the atLeast condition at anyOf[0].atLeast sets count and percent; set exactly one \
             of count or percent",
            "the atLeast condition at anyOf[1].atLeast sets none of them; set exactly one of \
             count or percent",
            "the AT_LEAST (atLeast) count at anyOf[2] is -2; it must be from 1 to the number \
             of alarms listed (1)",
            "the AT_LEAST (atLeast) percentage at anyOf[3] is -5%; it must be from 1% to 100%",
            "the rule condition at anyOf[4] sets alarm and atLeast; set exactly one of anyOf, \
             allOf, not, alarm, atLeast or constant",
        ]
    );
}

#[test]
fn structured_at_least_count_above_its_list_and_empty_lists_fail_validation() {
    let over = AlarmRuleNode {
        at_least: Some(at_least_condition(Some(3), None, &["a"], &["b"])),
        ..Default::default()
    };
    let rule = Rule::try_from(&over).unwrap();
    assert_eq!(
        problems(&rule),
        vec![RuleProblem::AtLeastCountOutOfRange {
            at: String::new(),
            count: 3,
            alarms: 2
        }]
    );
    let empty = AlarmRuleNode {
        at_least: Some(at_least_condition(Some(1), None, &[], &[])),
        ..Default::default()
    };
    let rule = Rule::try_from(&empty).unwrap();
    assert_eq!(
        problems(&rule),
        vec![RuleProblem::EmptyAtLeast { at: String::new() }]
    );
}

// --- properties --------------------------------------------------------------------------

fn name_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_.-]{1,12}",
        // Spaces, parentheses, quotes, backslashes (never last) and non-ASCII.
        "[ A-Za-z0-9()\"\\\\:,é]{0,11}[A-Za-z0-9()\" :,é]",
        prop::sample::select(vec!["AND", "OR", "NOT", "TRUE", "ALARM", "AT_LEAST"])
            .prop_map(str::to_owned),
        "[A-Za-z0-9_-]{1,10}"
            .prop_map(|name| format!("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{name}")),
    ]
}

/// A valid threshold for a list of `listed` alarms.
fn threshold_strategy(listed: usize) -> impl Strategy<Value = Threshold> {
    let listed = u32::try_from(listed).expect("a short list");
    prop_oneof![
        (1..=listed).prop_map(Threshold::Count),
        (1..=MAX_AT_LEAST_PERCENT).prop_map(Threshold::Percent),
    ]
}

fn at_least_strategy<A: Clone + fmt::Debug + 'static>(
    alarm: impl Strategy<Value = A> + 'static,
) -> impl Strategy<Value = Rule<A>> {
    (
        prop::collection::vec(alarm, 1..5),
        any::<bool>(),
        prop::sample::select(STATES.to_vec()),
    )
        .prop_flat_map(|(alarms, negated, state)| {
            threshold_strategy(alarms.len()).prop_map(move |threshold| Rule::AtLeast {
                threshold,
                negated,
                state,
                alarms: alarms.clone(),
            })
        })
}

pub(crate) fn rule_strategy() -> impl Strategy<Value = ResolvedRule> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Rule::Const),
        (prop::sample::select(STATES.to_vec()), name_strategy())
            .prop_map(|(state, alarm)| Rule::State { state, alarm }),
        at_least_strategy(name_strategy()),
    ];
    leaf.prop_recursive(6, 64, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Rule::And),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Rule::Or),
            inner.prop_map(|rule| Rule::Not(Box::new(rule))),
        ]
    })
}

/// Writes a rule the way a person might: uneven whitespace, unquoted names where allowed,
/// redundant parentheses. `choices` drives every decision.
pub(crate) struct NoisyWriter<'a> {
    pub(crate) choices: &'a [u8],
    pub(crate) next: usize,
    pub(crate) out: String,
}

impl NoisyWriter<'_> {
    fn pick(&mut self, options: usize) -> usize {
        let choice = self.choices[self.next % self.choices.len()];
        self.next += 1;
        usize::from(choice) % options
    }

    fn gap(&mut self) {
        let gap = [" ", "  ", "\n", "\t", " \r\n "][self.pick(5)];
        self.out.push_str(gap);
    }

    fn optional_gap(&mut self) {
        let gap = ["", "", " ", "\n"][self.pick(4)];
        self.out.push_str(gap);
    }

    fn comma(&mut self) {
        self.optional_gap();
        self.out.push(',');
        self.optional_gap();
    }

    pub(crate) fn rule(&mut self, rule: &ResolvedRule) {
        if self.pick(5) == 0 {
            self.out.push('(');
            self.optional_gap();
            self.bare(rule);
            self.optional_gap();
            self.out.push(')');
        } else {
            self.bare(rule);
        }
    }

    fn operand(&mut self, rule: &ResolvedRule) {
        if matches!(rule, Rule::And(_) | Rule::Or(_)) {
            self.out.push('(');
            self.optional_gap();
            self.rule(rule);
            self.optional_gap();
            self.out.push(')');
        } else {
            self.rule(rule);
        }
    }

    fn bare(&mut self, rule: &ResolvedRule) {
        match rule {
            Rule::Const(value) => self.out.push_str(if *value { "TRUE" } else { "FALSE" }),
            Rule::State { state, alarm } => {
                self.out.push_str(function_name(*state));
                self.optional_gap();
                self.out.push('(');
                self.optional_gap();
                let plain = !alarm
                    .chars()
                    .any(|c| c.is_whitespace() || matches!(c, '(' | ')' | '"'));
                if plain && self.pick(2) == 0 {
                    self.out.push_str(alarm);
                } else {
                    write_quoted(alarm, &mut self.out);
                }
                self.optional_gap();
                self.out.push(')');
            }
            Rule::AtLeast {
                threshold,
                negated,
                state,
                alarms,
            } => {
                self.out.push_str("AT_LEAST");
                self.optional_gap();
                self.out.push('(');
                self.optional_gap();
                match threshold {
                    // Leading zeros are still the same number.
                    Threshold::Count(count) => {
                        let zeros = "0".repeat(self.pick(2));
                        self.out.push_str(&format!("{zeros}{count}"));
                    }
                    Threshold::Percent(percent) => self.out.push_str(&format!("{percent}%")),
                }
                self.comma();
                if *negated {
                    self.out.push_str("NOT");
                    self.gap();
                }
                self.out.push_str(function_name(*state));
                self.comma();
                self.out.push('(');
                for (index, alarm) in alarms.iter().enumerate() {
                    if index > 0 {
                        self.comma();
                    } else {
                        self.optional_gap();
                    }
                    let plain = !alarm.chars().any(ends_listed_name);
                    if plain && self.pick(2) == 0 {
                        self.out.push_str(alarm);
                    } else {
                        write_quoted(alarm, &mut self.out);
                    }
                }
                self.optional_gap();
                self.out.push(')');
                self.optional_gap();
                self.out.push(')');
            }
            Rule::Not(inner) => {
                self.out.push_str("NOT");
                self.gap();
                self.operand(inner);
            }
            Rule::And(items) | Rule::Or(items) => {
                let operator = if matches!(rule, Rule::And(_)) {
                    "AND"
                } else {
                    "OR"
                };
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        self.gap();
                        self.out.push_str(operator);
                        self.gap();
                    }
                    self.operand(item);
                }
            }
        }
    }
}

fn child_ref_strategy() -> impl Strategy<Value = ChildRef> {
    prop_oneof![
        "[a-z0-9]([-.a-z0-9]{0,8}[a-z0-9])?".prop_map(ChildRef::Object),
        name_strategy().prop_map(ChildRef::Name),
    ]
}

/// A rule the structured form can hold: at most four levels, groups never empty, the last level
/// only alarm, atLeast or constant, and each atLeast listing its Alarm objects first.
fn structured_rule_strategy(level: u32) -> BoxedStrategy<Rule> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Rule::Const),
        (prop::sample::select(STATES.to_vec()), child_ref_strategy())
            .prop_map(|(state, alarm)| Rule::State { state, alarm }),
        at_least_strategy(child_ref_strategy()).prop_map(|rule| match rule {
            Rule::AtLeast {
                threshold,
                negated,
                state,
                mut alarms,
            } => {
                alarms.sort_by_key(|alarm| matches!(alarm, ChildRef::Name(_)));
                Rule::AtLeast {
                    threshold,
                    negated,
                    state,
                    alarms,
                }
            }
            other => other,
        }),
    ];
    if level == 4 {
        return leaf.boxed();
    }
    let next = structured_rule_strategy(level + 1);
    prop_oneof![
        2 => leaf,
        1 => prop::collection::vec(next.clone(), 1..4).prop_map(Rule::And),
        1 => prop::collection::vec(next.clone(), 1..4).prop_map(Rule::Or),
        1 => next.prop_map(|rule| Rule::Not(Box::new(rule))),
    ]
    .boxed()
}

/// The structured YAML (as JSON) a user would write for `rule`.
fn structured_json(rule: &Rule) -> serde_json::Value {
    use serde_json::json;
    let state = |state: &AlarmState| serde_json::to_value(state).expect("a state serializes");
    match rule {
        Rule::Const(value) => json!({"constant": if *value { "TRUE" } else { "FALSE" }}),
        Rule::State {
            state: s,
            alarm: ChildRef::Object(object),
        } => json!({"alarm": {"alarmRef": object, "state": state(s)}}),
        Rule::State {
            state: s,
            alarm: ChildRef::Name(name),
        } => json!({"alarm": {"alarmName": name, "state": state(s)}}),
        Rule::AtLeast {
            threshold,
            negated,
            state: s,
            alarms,
        } => {
            let mut condition = json!({"state": state(s), "not": negated});
            match threshold {
                Threshold::Count(count) => condition["count"] = json!(count),
                Threshold::Percent(percent) => condition["percent"] = json!(percent),
            }
            let refs: Vec<&String> = alarms
                .iter()
                .filter_map(|alarm| match alarm {
                    ChildRef::Object(object) => Some(object),
                    ChildRef::Name(_) => None,
                })
                .collect();
            let names: Vec<&String> = alarms
                .iter()
                .filter_map(|alarm| match alarm {
                    ChildRef::Name(name) => Some(name),
                    ChildRef::Object(_) => None,
                })
                .collect();
            if !refs.is_empty() {
                condition["alarmRefs"] = json!(refs);
            }
            if !names.is_empty() {
                condition["alarmNames"] = json!(names);
            }
            json!({"atLeast": condition})
        }
        Rule::Not(inner) => json!({"not": structured_json(inner)}),
        Rule::And(items) => json!({"allOf": items.iter().map(structured_json).collect::<Vec<_>>()}),
        Rule::Or(items) => json!({"anyOf": items.iter().map(structured_json).collect::<Vec<_>>()}),
    }
}

proptest! {
    #[test]
    fn the_structured_form_converts_node_for_node(rule in structured_rule_strategy(1)) {
        let json = structured_json(&rule);
        let node: AlarmRuleNode = serde_json::from_value(json.clone())
            .unwrap_or_else(|e| panic!("{json}: {e}"));
        prop_assert_eq!(Rule::try_from(&node), Ok(rule), "{}", json);
    }

    #[test]
    fn the_structured_form_and_its_expression_are_the_same_rule(
        rule in structured_rule_strategy(1),
    ) {
        let node: AlarmRuleNode = serde_json::from_value(structured_json(&rule)).unwrap();
        let resolved = Rule::try_from(&node)
            .unwrap()
            .resolve(|object| Some(format!("obj-{object}")))
            .unwrap();
        let expression = resolved.render();
        prop_assert_eq!(parse(&expression), Ok(resolved.normalize()), "{}", expression);
        // And back: the expression's rule written structurally is the same structured rule.
        let named = Rule::from(parse(&expression).unwrap());
        let again: AlarmRuleNode = serde_json::from_value(structured_json(&named)).unwrap();
        let again = Rule::try_from(&again).unwrap().resolve(|_| None).unwrap();
        prop_assert_eq!(again.render(), expression);
    }

    #[test]
    fn parsing_the_rendering_gives_the_normalized_rule(rule in rule_strategy()) {
        let rendered = rule.render();
        prop_assert_eq!(parse(&rendered), Ok(rule.normalize()), "{}", rendered);
    }

    #[test]
    fn rendering_is_idempotent(rule in rule_strategy()) {
        let rendered = rule.render();
        prop_assert_eq!(canonical(&rendered), Ok(rendered));
    }

    #[test]
    fn normalizing_twice_changes_nothing(rule in rule_strategy()) {
        let once = rule.normalize();
        prop_assert_eq!(once.clone().normalize(), once);
    }

    #[test]
    fn any_spelling_of_a_rule_parses_to_the_same_tree(
        rule in rule_strategy(),
        choices in prop::collection::vec(any::<u8>(), 1..64),
    ) {
        let rule = rule.normalize();
        let mut writer = NoisyWriter { choices: &choices, next: 0, out: String::new() };
        writer.rule(&rule);
        prop_assert_eq!(parse(&writer.out), Ok(rule), "{}", writer.out);
    }

    #[test]
    fn parsing_any_text_never_panics_and_what_parses_is_canonical_once_rendered(
        text in "(ALARM|OK|INSUFFICIENT_DATA|AT_LEAST|NOT|AND|OR|TRUE|FALSE|[0-9]|%|,|[()\" a-z\\\\\n])*",
    ) {
        if let Ok(rule) = parse(&text) {
            let rendered = rule.render();
            prop_assert_eq!(canonical(&rendered), Ok(rendered));
        }
    }

    #[test]
    fn parsing_arbitrary_unicode_never_panics(text in "\\PC*") {
        let _ = parse(&text);
    }
}

proptest! {
    #[test]
    fn a_rule_the_structured_form_can_hold_is_written_as_the_user_would(
        rule in structured_rule_strategy(1),
    ) {
        let expected: AlarmRuleNode = serde_json::from_value(structured_json(&rule)).unwrap();
        prop_assert_eq!(to_structured(&rule), Some(expected));
    }

    #[test]
    fn a_rule_written_structurally_reads_back_as_the_same_rule(
        rule in rule_strategy(),
        objects in prop::collection::vec(any::<bool>(), 1..8),
    ) {
        // Some names become Alarm objects, as import makes them.
        let mut next = 0;
        let rule = rule.map_alarms(&mut |name| {
            next += 1;
            if objects[next % objects.len()] {
                ChildRef::Object(name.to_lowercase())
            } else {
                ChildRef::Name(name.clone())
            }
        });
        if let Some(node) = to_structured(&rule) {
            prop_assert_eq!(Rule::try_from(&node), Ok(rule));
        }
    }
}

fn nested_not(depth: usize) -> Rule {
    (0..depth).fold(
        Rule::State {
            state: AlarmState::Alarm,
            alarm: ChildRef::Name("deepest".into()),
        },
        |inner, _| Rule::Not(Box::new(inner)),
    )
}

#[test]
fn the_structured_form_holds_three_groups_deep_and_no_deeper() {
    assert!(to_structured(&nested_not(3)).is_some());
    assert_eq!(to_structured(&nested_not(4)), None);
}

#[test]
fn the_structured_form_holds_lists_up_to_each_levels_limit() {
    let alarms = |n: usize| -> Vec<Rule> {
        (0..n)
            .map(|i| Rule::State {
                state: AlarmState::Ok,
                alarm: ChildRef::Object(format!("a{i}")),
            })
            .collect()
    };
    assert!(to_structured(&Rule::Or(alarms(100))).is_some());
    assert_eq!(to_structured(&Rule::Or(alarms(101))), None);
    let second = |n| Rule::Not(Box::new(Rule::And(alarms(n))));
    assert!(to_structured(&second(20)).is_some());
    assert_eq!(to_structured(&second(21)), None);
    let third = |n| Rule::Not(Box::new(Rule::Not(Box::new(Rule::And(alarms(n))))));
    assert!(to_structured(&third(10)).is_some());
    assert_eq!(to_structured(&third(11)), None);
    assert_eq!(to_structured(&Rule::And(vec![])), None);
}

#[test]
fn an_at_least_naming_an_alarm_before_an_object_stays_an_expression() {
    let at_least = |alarms: Vec<ChildRef>| Rule::AtLeast {
        threshold: Threshold::Count(2),
        negated: false,
        state: AlarmState::Alarm,
        alarms,
    };
    let object = ChildRef::Object("web-1".into());
    let name = ChildRef::Name("Web 2".into());
    let node = to_structured(&at_least(vec![object.clone(), name.clone()])).unwrap();
    let condition = node.at_least.unwrap();
    assert_eq!(condition.alarm_refs, ["web-1"]);
    assert_eq!(condition.alarm_names, ["Web 2"]);
    assert_eq!(condition.count, Some(2));
    assert_eq!(to_structured(&at_least(vec![name, object])), None);
}
