//! The parser of AWS's rule expression language, with errors that point at the column.

use super::render::{ends_listed_name, write_quoted};
use super::*;
use std::str::FromStr;

/// Where in the expression something is: 1-based line and column, counted in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column within the line, in characters.
    pub column: usize,
}

impl Position {
    const START: Position = Position { line: 1, column: 1 };

    fn advance(&mut self, c: char) {
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 1 {
            write!(f, "column {}", self.column)
        } else {
            write!(f, "line {}, column {}", self.line, self.column)
        }
    }
}

/// Why an expression does not parse, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe(.kind, .at))]
pub struct ParseError {
    pub kind: ParseErrorKind,
    pub at: Position,
}

/// What went wrong while parsing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// Nothing but whitespace.
    Empty,
    /// A token that cannot appear here.
    Expected { expected: Expected, found: Found },
    /// `FOO(...)` for a function AWS does not have.
    UnknownFunction(String),
    /// A keyword or function written in anything but upper case.
    KeywordCase {
        written: String,
        keyword: &'static str,
    },
    /// A `"` with no closing `"`.
    UnterminatedName,
    /// `""` as an alarm name.
    EmptyName,
    /// Parentheses nested deeper than a valid rule can be ([`MAX_ELEMENTS`]).
    TooDeep,
}

/// What the parser would have accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    /// The start of an operand.
    Operand,
    /// `(` after the function named.
    OpenParenAfter(&'static str),
    /// An alarm name or ARN inside a function.
    AlarmName,
    /// `)` closing a function call.
    CloseCall,
    /// The threshold of `AT_LEAST`: a count or a percentage.
    Threshold,
    /// `,` between the arguments of `AT_LEAST`.
    Comma,
    /// The state `AT_LEAST` counts, after `NOT` when `after_not`.
    AtLeastState { after_not: bool },
    /// `(` opening the alarm list of `AT_LEAST`.
    AlarmList,
    /// `,` or the `)` closing the alarm list opened at `open`.
    CommaOrCloseList { open: Position },
    /// AND, OR, or the `)` closing the group opened at `open`.
    OperatorOrClose { open: Position },
    /// AND, OR, or the end of the rule.
    OperatorOrEnd,
}

/// The token the parser found instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    End,
    OpenParen,
    CloseParen,
    Comma,
    Word(String),
    Quoted(String),
}

const KEYWORDS: [&str; 9] = [
    "AND",
    "OR",
    "NOT",
    "TRUE",
    "FALSE",
    "ALARM",
    "OK",
    "INSUFFICIENT_DATA",
    AT_LEAST,
];

const AT_LEAST: &str = "AT_LEAST";

/// The upper-case keyword `word` is a differently-cased spelling of, if any.
fn miscased_keyword(word: &str) -> Option<&'static str> {
    KEYWORDS
        .into_iter()
        .find(|keyword| *keyword != word && keyword.eq_ignore_ascii_case(word))
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Operand => f.write_str(
                "ALARM(...), OK(...), INSUFFICIENT_DATA(...), AT_LEAST(...), TRUE, FALSE, NOT or \
                 '('",
            ),
            Expected::OpenParenAfter(function) => write!(f, "'(' after {function}"),
            Expected::AlarmName => f.write_str("an alarm name or ARN"),
            Expected::CloseCall => f.write_str("')'"),
            Expected::Threshold => {
                f.write_str("the AT_LEAST threshold, a count or a percentage (2 or 60%)")
            }
            Expected::Comma => f.write_str("','"),
            Expected::AtLeastState { after_not: false } => {
                f.write_str("ALARM, OK, INSUFFICIENT_DATA or NOT followed by one of them")
            }
            Expected::AtLeastState { after_not: true } => {
                f.write_str("ALARM, OK or INSUFFICIENT_DATA after NOT")
            }
            Expected::AlarmList => f.write_str("'(' opening the list of alarms"),
            Expected::CommaOrCloseList { .. } => f.write_str("',' or the ')' closing the list"),
            Expected::OperatorOrClose { .. } => f.write_str("AND, OR or ')'"),
            Expected::OperatorOrEnd => f.write_str("AND, OR or the end of the rule"),
        }
    }
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::End => f.write_str("the end of the rule"),
            Found::OpenParen => f.write_str("'('"),
            Found::CloseParen => f.write_str("')'"),
            Found::Comma => f.write_str("','"),
            Found::Word(word) => write!(f, "'{}'", shorten(word)),
            Found::Quoted(name) => {
                let mut quoted = String::new();
                write_quoted(&shorten(name), &mut quoted);
                f.write_str(&quoted)
            }
        }
    }
}

pub(super) fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() > MAX {
        text.chars().take(MAX).chain("...".chars()).collect()
    } else {
        text.to_owned()
    }
}

const NAMES_GO_INSIDE_FUNCTIONS: &str =
    "; alarm names go inside ALARM(...), OK(...), INSUFFICIENT_DATA(...) or AT_LEAST(...)";

fn describe(kind: &ParseErrorKind, at: &Position) -> String {
    match kind {
        ParseErrorKind::Empty => "the rule is empty; write at least one of ALARM(...), OK(...), \
                                  INSUFFICIENT_DATA(...), AT_LEAST(...), TRUE or FALSE"
            .to_owned(),
        ParseErrorKind::Expected { expected, found } => {
            let mut message = format!("expected {expected} at {at}, found {found}");
            let keyword = match found {
                Found::Word(word) => miscased_keyword(word),
                _ => None,
            };
            if let Some(keyword) = keyword {
                message.push_str(&format!("; keywords are written in upper case: {keyword}"));
            } else {
                match (expected, found) {
                    (Expected::Operand, Found::Word(word))
                        if !KEYWORDS.contains(&word.as_str()) =>
                    {
                        message.push_str(NAMES_GO_INSIDE_FUNCTIONS)
                    }
                    (Expected::Operand, Found::Quoted(_)) => {
                        message.push_str(NAMES_GO_INSIDE_FUNCTIONS)
                    }
                    (Expected::CloseCall, Found::Word(_) | Found::Quoted(_)) => message.push_str(
                        "; an alarm name with spaces, parentheses or '\"' must be written in \
                         double quotes",
                    ),
                    (Expected::CommaOrCloseList { .. }, Found::Word(_) | Found::Quoted(_)) => {
                        message.push_str(
                            "; in AT_LEAST an alarm name with spaces, parentheses, '\"' or ',' \
                             must be written in double quotes",
                        )
                    }
                    (Expected::OperatorOrClose { open }, Found::End)
                    | (Expected::CommaOrCloseList { open }, Found::End) => {
                        message.push_str(&format!("; the '(' at {open} is never closed"))
                    }
                    _ => {}
                }
            }
            message
        }
        ParseErrorKind::UnknownFunction(name) => format!(
            "unknown function {} at {at}; the rule functions are ALARM, OK, INSUFFICIENT_DATA and \
             AT_LEAST",
            shorten(name)
        ),
        ParseErrorKind::KeywordCase { written, keyword } => {
            format!("'{written}' at {at} must be written in upper case: {keyword}")
        }
        ParseErrorKind::UnterminatedName => {
            format!("the quoted alarm name starting at {at} has no closing '\"'")
        }
        ParseErrorKind::EmptyName => format!("empty alarm name at {at}"),
        ParseErrorKind::TooDeep => format!(
            "parentheses at {at} are nested more than {MAX_ELEMENTS} deep; AWS allows at most \
             {MAX_ELEMENTS} elements in a rule"
        ),
    }
}

/// Parses an AWS composite alarm rule expression (grammar in the module documentation). The
/// result is normalized: `a AND (b AND c)` is one AND of three operands.
pub fn parse(expression: &str) -> Result<ResolvedRule, ParseError> {
    Parser::new(expression).parse()
}

impl FromStr for Rule<String> {
    type Err = ParseError;

    fn from_str(expression: &str) -> Result<Self, Self::Err> {
        parse(expression)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum TokenKind {
    Open,
    Close,
    /// Only inside `AT_LEAST(...)`; elsewhere a comma is part of a name.
    Comma,
    Word(String),
    Quoted(String),
    End,
}

#[derive(Clone, Debug)]
struct Token {
    kind: TokenKind,
    at: Position,
}

impl Token {
    fn found(&self) -> Found {
        match &self.kind {
            TokenKind::Open => Found::OpenParen,
            TokenKind::Close => Found::CloseParen,
            TokenKind::Comma => Found::Comma,
            TokenKind::Word(word) => Found::Word(word.clone()),
            TokenKind::Quoted(name) => Found::Quoted(name.clone()),
            TokenKind::End => Found::End,
        }
    }

    fn unexpected(&self, expected: Expected) -> ParseError {
        ParseError {
            kind: ParseErrorKind::Expected {
                expected,
                found: self.found(),
            },
            at: self.at,
        }
    }
}

/// Splits the expression into tokens. A lexical error ends the token list and is reported only
/// when the parser reaches it, so an earlier syntax error is reported first.
///
/// Between `AT_LEAST(` and its matching `)` a comma is a token of its own and ends an unquoted
/// name; elsewhere it is an ordinary character of a name.
fn tokenize(input: &str) -> (Vec<Token>, Option<ParseError>) {
    let mut tokens: Vec<Token> = Vec::new();
    let mut chars = input.chars().peekable();
    let mut at = Position::START;
    // Parentheses open so far, and how many were open once `AT_LEAST(` was.
    let mut depth = 0usize;
    let mut at_least_depth: Option<usize> = None;
    while let Some(&c) = chars.peek() {
        let start = at;
        if c.is_whitespace() {
            chars.next();
            at.advance(c);
            continue;
        }
        let in_at_least = at_least_depth.is_some();
        let kind = match c {
            '(' => {
                chars.next();
                at.advance(c);
                depth += 1;
                let after_at_least = matches!(
                    tokens.last(),
                    Some(Token { kind: TokenKind::Word(word), .. }) if word == AT_LEAST
                );
                if after_at_least && !in_at_least {
                    at_least_depth = Some(depth);
                }
                TokenKind::Open
            }
            ')' => {
                chars.next();
                at.advance(c);
                if at_least_depth == Some(depth) {
                    at_least_depth = None;
                }
                depth = depth.saturating_sub(1);
                TokenKind::Close
            }
            ',' if in_at_least => {
                chars.next();
                at.advance(c);
                TokenKind::Comma
            }
            '"' => {
                chars.next();
                at.advance(c);
                let mut name = String::new();
                loop {
                    let Some(c) = chars.next() else {
                        let error = ParseError {
                            kind: ParseErrorKind::UnterminatedName,
                            at: start,
                        };
                        return (tokens, Some(error));
                    };
                    at.advance(c);
                    match c {
                        '"' => break,
                        '\\' if chars.peek() == Some(&'"') => {
                            chars.next();
                            at.advance('"');
                            name.push('"');
                        }
                        _ => name.push(c),
                    }
                }
                TokenKind::Quoted(name)
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    let ends = if in_at_least {
                        ends_listed_name(c)
                    } else {
                        c.is_whitespace() || matches!(c, '(' | ')' | '"')
                    };
                    if ends {
                        break;
                    }
                    chars.next();
                    at.advance(c);
                    word.push(c);
                }
                TokenKind::Word(word)
            }
        };
        tokens.push(Token { kind, at: start });
    }
    tokens.push(Token {
        kind: TokenKind::End,
        at,
    });
    (tokens, None)
}

struct Parser {
    tokens: Vec<Token>,
    lex_error: Option<ParseError>,
    index: usize,
}

/// A parenthesised group being read (or the whole rule): the OR operands read so far, the AND
/// operands of the term being read, and the NOTs in front of the operand being read.
struct Group {
    open: Option<Position>,
    or_operands: Vec<ResolvedRule>,
    and_operands: Vec<ResolvedRule>,
    nots: usize,
}

impl Group {
    fn new(open: Option<Position>) -> Self {
        Group {
            open,
            or_operands: Vec::new(),
            and_operands: Vec::new(),
            nots: 0,
        }
    }

    fn finish(mut self) -> ResolvedRule {
        self.or_operands.push(Rule::join(self.and_operands, true));
        Rule::join(self.or_operands, false)
    }
}

impl Parser {
    fn new(input: &str) -> Self {
        let (tokens, lex_error) = tokenize(input);
        Parser {
            tokens,
            lex_error,
            index: 0,
        }
    }

    fn peek(&self) -> Result<&Token, ParseError> {
        match self.tokens.get(self.index) {
            Some(token) => Ok(token),
            // Without a lexical error the list ends with `End`, which is never consumed past.
            None => Err(self
                .lex_error
                .clone()
                .expect("tokens end with End or an error")),
        }
    }

    fn next(&mut self) -> Result<Token, ParseError> {
        let token = self.peek()?.clone();
        self.index += 1;
        Ok(token)
    }

    fn eat_word(&mut self, keyword: &str) -> Result<bool, ParseError> {
        let matched = matches!(&self.peek()?.kind, TokenKind::Word(word) if word == keyword);
        if matched {
            self.index += 1;
        }
        Ok(matched)
    }

    /// The grammar's `or` / `and` / `unary` / `primary` levels, read with an explicit stack of
    /// open groups instead of recursion, so that nesting costs heap rather than thread stack.
    fn parse(mut self) -> Result<ResolvedRule, ParseError> {
        if self.peek()?.kind == TokenKind::End {
            return Err(ParseError {
                kind: ParseErrorKind::Empty,
                at: Position::START,
            });
        }
        let mut groups = vec![Group::new(None)];
        loop {
            // An operand: NOTs, then either '(' opening a group or an atom.
            let group = groups.last_mut().expect("the whole rule is a group");
            while self.eat_word("NOT")? {
                group.nots += 1;
            }
            let token = self.next()?;
            if token.kind == TokenKind::Open {
                // `groups` holds the whole rule plus every open group.
                if groups.len() > MAX_ELEMENTS {
                    return Err(ParseError {
                        kind: ParseErrorKind::TooDeep,
                        at: token.at,
                    });
                }
                groups.push(Group::new(Some(token.at)));
                continue;
            }
            let mut operand = self.atom(token)?;
            // After an operand, AND or OR continues the innermost group; anything else ends it,
            // and the finished group is in turn an operand of the group around it.
            loop {
                let group = groups.last_mut().expect("the whole rule is a group");
                for _ in 0..std::mem::take(&mut group.nots) {
                    operand = Rule::Not(Box::new(operand));
                }
                group.and_operands.push(operand);
                if self.eat_word("AND")? {
                    break;
                }
                if self.eat_word("OR")? {
                    let term = std::mem::take(&mut group.and_operands);
                    group.or_operands.push(Rule::join(term, true));
                    break;
                }
                let group = groups.pop().expect("the whole rule is a group");
                let open = group.open;
                operand = group.finish();
                let token = self.next()?;
                match (open, &token.kind) {
                    (None, TokenKind::End) => return Ok(operand),
                    (None, _) => return Err(token.unexpected(Expected::OperatorOrEnd)),
                    (Some(_), TokenKind::Close) => {}
                    (Some(open), _) => {
                        return Err(token.unexpected(Expected::OperatorOrClose { open }));
                    }
                }
            }
        }
    }

    /// `TRUE`, `FALSE` or a function call, starting at `token`.
    fn atom(&mut self, token: Token) -> Result<ResolvedRule, ParseError> {
        let TokenKind::Word(word) = &token.kind else {
            return Err(token.unexpected(Expected::Operand));
        };
        match word.as_str() {
            "TRUE" => return Ok(Rule::Const(true)),
            "FALSE" => return Ok(Rule::Const(false)),
            _ => {}
        }
        if let Some(state) = state_of_function(word) {
            return self.parse_call(state);
        }
        if word == AT_LEAST {
            return self.parse_at_least();
        }
        let error = |kind| ParseError { kind, at: token.at };
        let called = self.peek()?.kind == TokenKind::Open;
        match miscased_keyword(word) {
            // A miscased AND/OR here is a missing operand; the generic message says so.
            Some(keyword) if !matches!(keyword, "AND" | "OR") => {
                Err(error(ParseErrorKind::KeywordCase {
                    written: word.clone(),
                    keyword,
                }))
            }
            _ if called => Err(error(ParseErrorKind::UnknownFunction(word.clone()))),
            _ => Err(token.unexpected(Expected::Operand)),
        }
    }

    fn parse_call(&mut self, state: AlarmState) -> Result<ResolvedRule, ParseError> {
        self.expect(
            TokenKind::Open,
            Expected::OpenParenAfter(function_name(state)),
        )?;
        let alarm = self.alarm_name()?;
        self.expect(TokenKind::Close, Expected::CloseCall)?;
        Ok(Rule::State { state, alarm })
    }

    /// `AT_LEAST(threshold, [NOT] state, (alarm, ...))`, after the word `AT_LEAST`.
    fn parse_at_least(&mut self) -> Result<ResolvedRule, ParseError> {
        self.expect(TokenKind::Open, Expected::OpenParenAfter(AT_LEAST))?;
        let token = self.next()?;
        let threshold = match &token.kind {
            TokenKind::Word(word) => parse_threshold(word),
            _ => None,
        }
        .ok_or_else(|| token.unexpected(Expected::Threshold))?;
        self.expect(TokenKind::Comma, Expected::Comma)?;
        let negated = self.eat_word("NOT")?;
        let token = self.next()?;
        let state = match &token.kind {
            TokenKind::Word(word) => state_of_function(word),
            _ => None,
        }
        .ok_or_else(|| token.unexpected(Expected::AtLeastState { after_not: negated }))?;
        self.expect(TokenKind::Comma, Expected::Comma)?;
        let open = self.expect(TokenKind::Open, Expected::AlarmList)?;
        let mut alarms = vec![self.alarm_name()?];
        loop {
            let token = self.next()?;
            match token.kind {
                TokenKind::Comma => alarms.push(self.alarm_name()?),
                TokenKind::Close => break,
                _ => return Err(token.unexpected(Expected::CommaOrCloseList { open })),
            }
        }
        self.expect(TokenKind::Close, Expected::CloseCall)?;
        Ok(Rule::AtLeast {
            threshold,
            negated,
            state,
            alarms,
        })
    }

    /// The next token, which must be `kind`; its position.
    fn expect(&mut self, kind: TokenKind, expected: Expected) -> Result<Position, ParseError> {
        let token = self.next()?;
        if token.kind == kind {
            Ok(token.at)
        } else {
            Err(token.unexpected(expected))
        }
    }

    /// An alarm name or ARN, quoted or not.
    fn alarm_name(&mut self) -> Result<String, ParseError> {
        let token = self.next()?;
        match token.kind {
            TokenKind::Word(name) => Ok(name),
            TokenKind::Quoted(name) if name.is_empty() => Err(ParseError {
                kind: ParseErrorKind::EmptyName,
                at: token.at,
            }),
            TokenKind::Quoted(name) => Ok(name),
            TokenKind::Open | TokenKind::Close | TokenKind::Comma | TokenKind::End => {
                Err(token.unexpected(Expected::AlarmName))
            }
        }
    }
}

/// `2` or `60%`: ASCII digits, then `%` for a percentage. A number too large for any valid
/// threshold is not one.
fn parse_threshold(word: &str) -> Option<Threshold> {
    let (digits, percent) = match word.strip_suffix('%') {
        Some(digits) => (digits, true),
        None => (word, false),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = digits.parse().ok()?;
    Some(if percent {
        Threshold::Percent(number)
    } else {
        Threshold::Count(number)
    })
}
