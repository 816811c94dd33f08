//! Tokens of a metric math expression.

use super::MathError;

#[derive(Clone, Debug, PartialEq)]
pub enum Token {
    Number(f64),
    /// A quoted string, `"..."` or `'...'`, without its quotes.
    Str(String),
    /// A bare word: an id (`m1`), a keyword (`REPEAT`, `AND`) or a function name.
    Word(String),
    /// `+ - * / ^ == != <= >= < > && ||`
    Op(&'static str),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Comma,
}

impl Token {
    /// The token as AWS quotes it in an error message.
    pub fn shown(&self) -> String {
        match self {
            Token::Number(n) => n.to_string(),
            Token::Str(s) => format!("\"{s}\""),
            Token::Word(w) => w.clone(),
            Token::Op(op) => (*op).to_string(),
            Token::Open => "(".into(),
            Token::Close => ")".into(),
            Token::OpenBracket => "[".into(),
            Token::CloseBracket => "]".into(),
            Token::Comma => ",".into(),
        }
    }
}

/// A token and the character index it starts at.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned {
    pub token: Token,
    pub at: usize,
}

const OPERATORS: [&str; 13] = [
    "==", "!=", "<=", ">=", "&&", "||", "+", "-", "*", "/", "^", "<", ">",
];

pub fn tokenize(text: &str) -> Result<Vec<Spanned>, MathError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i;
        let single = match c {
            '(' => Some(Token::Open),
            ')' => Some(Token::Close),
            '[' => Some(Token::OpenBracket),
            ']' => Some(Token::CloseBracket),
            ',' => Some(Token::Comma),
            _ => None,
        };
        if c.is_whitespace() {
            i += 1;
        } else if let Some(token) = single {
            tokens.push(Spanned { token, at });
            i += 1;
        } else if c == '"' || c == '\'' {
            let (value, next) = string(&chars, i)?;
            tokens.push(Spanned {
                token: Token::Str(value),
                at,
            });
            i = next;
        } else if c.is_ascii_digit()
            || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let (value, next) = number(&chars, i)?;
            tokens.push(Spanned {
                token: Token::Number(value),
                at,
            });
            i = next;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Spanned {
                token: Token::Word(chars[start..i].iter().collect()),
                at,
            });
        } else if let Some(op) = OPERATORS.iter().find(|op| {
            op.chars()
                .enumerate()
                .all(|(k, oc)| chars.get(i + k) == Some(&oc))
        }) {
            tokens.push(Spanned {
                token: Token::Op(op),
                at,
            });
            i += op.chars().count();
        } else {
            return Err(MathError::new(format!("Unsupported token '{c}'"), at));
        }
    }
    Ok(tokens)
}

/// A string in `"` or `'`; a backslash escapes the next character.
fn string(chars: &[char], start: usize) -> Result<(String, usize), MathError> {
    let quote = chars[start];
    let mut value = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err(MathError::new("Unterminated string", start)),
            Some(c) if *c == quote => return Ok((value, i + 1)),
            Some('\\') if i + 1 < chars.len() => {
                value.push(chars[i + 1]);
                i += 2;
            }
            Some(c) => {
                value.push(*c);
                i += 1;
            }
        }
    }
}

/// `12`, `0.5`, `.5`, `1e-36`, `2.5E3`.
fn number(chars: &[char], start: usize) -> Result<(f64, usize), MathError> {
    let mut i = start;
    let digits = |i: &mut usize| {
        let from = *i;
        while *i < chars.len() && chars[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > from
    };
    digits(&mut i);
    if chars.get(i) == Some(&'.') {
        i += 1;
        if !digits(&mut i) {
            return Err(MathError::new("Malformed number", start));
        }
    }
    if matches!(chars.get(i), Some('e' | 'E')) {
        let mut j = i + 1;
        if matches!(chars.get(j), Some('+' | '-')) {
            j += 1;
        }
        if digits(&mut j) {
            i = j;
        }
    }
    if chars
        .get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
    {
        return Err(MathError::new("Malformed number", start));
    }
    let text: String = chars[start..i].iter().collect();
    text.parse::<f64>()
        .map(|n| (n, i))
        .map_err(|_| MathError::new("Malformed number", start))
}
