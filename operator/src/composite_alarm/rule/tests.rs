use super::render::write_quoted;
use super::*;
use crate::composite_alarm::spec::{
    AlarmCondition, AlarmRuleLeaf, AlarmRuleNode, AlarmRuleNode2, AlarmRuleNode3, RuleConstant,
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

// --- parse errors ------------------------------------------------------------------------

#[test]
fn empty_rule_is_rejected() {
    for expression in ["", "  \n\t"] {
        assert_eq!(
            error(expression),
            "the rule is empty; write at least one of ALARM(...), OK(...), \
             INSUFFICIENT_DATA(...), TRUE or FALSE"
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
        "unknown function FOO at column 1; the rule functions are ALARM, OK and \
         INSUFFICIENT_DATA"
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
fn at_least_is_rejected_as_unsupported() {
    assert_eq!(
        error("AT_LEAST(2, ALARM, (a, b, c))"),
        "AT_LEAST at column 1 is not supported by cloudwatch-operator; write the rule with \
         AND and OR instead"
    );
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
        "expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), TRUE, FALSE, NOT or '(' at \
         column 1, found 'CPUHigh'; alarm names go inside ALARM(...), OK(...) or \
         INSUFFICIENT_DATA(...)"
    );
    assert_eq!(
        error(r#"ALARM(a) OR "b""#),
        "expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), TRUE, FALSE, NOT or '(' at \
         column 13, found \"b\"; alarm names go inside ALARM(...), OK(...) or \
         INSUFFICIENT_DATA(...)"
    );
}

#[test]
fn missing_operands_are_rejected() {
    let operand = "expected ALARM(...), OK(...), INSUFFICIENT_DATA(...), TRUE, FALSE, NOT or '('";
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
        "unknown function FOO at line 2, column 3; the rule functions are ALARM, OK and \
         INSUFFICIENT_DATA"
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
             allOf, not, alarm or constant",
            "the rule condition at allOf[1] sets alarm and constant; set exactly one of \
             anyOf, allOf, not, alarm or constant",
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
         them; set exactly one of anyOf, allOf, not, alarm or constant"
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

pub(crate) fn rule_strategy() -> impl Strategy<Value = ResolvedRule> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Rule::Const),
        (prop::sample::select(STATES.to_vec()), name_strategy())
            .prop_map(|(state, alarm)| Rule::State { state, alarm }),
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

proptest! {
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
        text in "(ALARM|OK|INSUFFICIENT_DATA|NOT|AND|OR|TRUE|FALSE|[()\" a-z\\\\\n])*",
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
