//! The metric math grammar, tightest binding last:
//!
//! ```text
//! expression = or
//! or         = and { ("OR" | "||") and }
//! and        = comparison { ("AND" | "&&") comparison }
//! comparison = sum { ("==" | "!=" | "<=" | ">=" | "<" | ">") sum }
//! sum        = product { ("+" | "-") product }
//! product    = unary { ("*" | "/") unary }
//! unary      = "-" unary | power
//! power      = primary [ "^" unary ]
//! primary    = number | string | word | call | "(" expression ")" | "[" expression { "," expression } "]"
//! call       = word "(" [ expression { "," expression } ] ")"
//! ```

use super::MathError;
use super::lex::{Spanned, Token, tokenize};

/// Far deeper nesting than real expressions use; it bounds the parser's recursion (an
/// expression of 2,048 characters could otherwise nest 1,000 levels).
const MAX_DEPTH: usize = 64;

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Number(f64),
    Str(String),
    /// An id, a keyword argument or a boolean, told apart when the tree is checked.
    Word(String),
    Array(Vec<Node>),
    Call(String, Vec<Node>),
    Negate(Box<Node>),
    Binary(&'static str, Box<Node>, Box<Node>),
}

/// An expression and the character index it starts at.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub expr: Expr,
    pub at: usize,
}

struct Parser {
    tokens: Vec<Spanned>,
    pos: usize,
    end: usize,
    depth: usize,
}

/// Parses an expression into its tree; says nothing yet about functions or ids.
pub fn parse(text: &str) -> Result<Node, MathError> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        pos: 0,
        end: text.chars().count(),
        depth: 0,
    };
    if parser.tokens.is_empty() {
        return Err(MathError::new("Empty expression", 0));
    }
    let node = parser.or()?;
    match parser.tokens.get(parser.pos) {
        Some(extra) => Err(unsupported(extra)),
        None => Ok(node),
    }
}

fn unsupported(spanned: &Spanned) -> MathError {
    MathError::new(
        format!("Unsupported token '{}'", spanned.token.shown()),
        spanned.at,
    )
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|s| &s.token)
    }

    fn here(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |s| s.at)
    }

    fn unexpected(&self) -> MathError {
        match self.tokens.get(self.pos) {
            Some(spanned) => unsupported(spanned),
            None => MathError::new("Unexpected end of expression", self.end),
        }
    }

    fn expect(&mut self, token: Token) -> Result<(), MathError> {
        if self.peek() == Some(&token) {
            self.pos += 1;
            Ok(())
        } else {
            let mut error = self.unexpected();
            error
                .message
                .push_str(&format!(", must be: '{}'", token.shown()));
            Err(error)
        }
    }

    /// The operator at the cursor, if it is one of `ops` (symbols or upper-case words).
    fn operator(&self, ops: &[(&str, &'static str)]) -> Option<&'static str> {
        let written = match self.peek()? {
            Token::Op(op) => *op,
            Token::Word(w) => w.as_str(),
            _ => return None,
        };
        ops.iter()
            .find(|(spelling, _)| *spelling == written)
            .map(|(_, op)| *op)
    }

    fn left_associative(
        &mut self,
        ops: &[(&str, &'static str)],
        next: fn(&mut Self) -> Result<Node, MathError>,
    ) -> Result<Node, MathError> {
        let mut left = next(self)?;
        while let Some(op) = self.operator(ops) {
            self.pos += 1;
            let right = next(self)?;
            let at = left.at;
            left = Node {
                expr: Expr::Binary(op, Box::new(left), Box::new(right)),
                at,
            };
        }
        Ok(left)
    }

    fn or(&mut self) -> Result<Node, MathError> {
        self.left_associative(&[("OR", "OR"), ("||", "OR")], Self::and)
    }

    fn and(&mut self) -> Result<Node, MathError> {
        self.left_associative(&[("AND", "AND"), ("&&", "AND")], Self::comparison)
    }

    fn comparison(&mut self) -> Result<Node, MathError> {
        self.left_associative(
            &[
                ("==", "=="),
                ("!=", "!="),
                ("<=", "<="),
                (">=", ">="),
                ("<", "<"),
                (">", ">"),
            ],
            Self::sum,
        )
    }

    fn sum(&mut self) -> Result<Node, MathError> {
        self.left_associative(&[("+", "+"), ("-", "-")], Self::product)
    }

    fn product(&mut self) -> Result<Node, MathError> {
        self.left_associative(&[("*", "*"), ("/", "/")], Self::unary)
    }

    fn unary(&mut self) -> Result<Node, MathError> {
        if self.peek() == Some(&Token::Op("-")) {
            let at = self.here();
            self.pos += 1;
            let operand = self.nested(Self::unary)?;
            return Ok(Node {
                expr: Expr::Negate(Box::new(operand)),
                at,
            });
        }
        self.power()
    }

    fn power(&mut self) -> Result<Node, MathError> {
        let base = self.primary()?;
        if self.peek() == Some(&Token::Op("^")) {
            self.pos += 1;
            let exponent = self.nested(Self::unary)?;
            let at = base.at;
            return Ok(Node {
                expr: Expr::Binary("^", Box::new(base), Box::new(exponent)),
                at,
            });
        }
        Ok(base)
    }

    /// Runs `f` one nesting level deeper.
    fn nested(&mut self, f: fn(&mut Self) -> Result<Node, MathError>) -> Result<Node, MathError> {
        if self.depth >= MAX_DEPTH {
            return Err(MathError::new(
                "Expression is nested too deeply",
                self.here(),
            ));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    /// Expressions separated by commas up to `close`; `allow_empty` for `METRICS()`.
    fn list(&mut self, close: Token, allow_empty: bool) -> Result<Vec<Node>, MathError> {
        let mut items = Vec::new();
        if self.peek() == Some(&close) && allow_empty {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            items.push(self.nested(Self::or)?);
            match self.peek() {
                Some(Token::Comma) => self.pos += 1,
                Some(t) if *t == close => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => {
                    let mut error = self.unexpected();
                    error
                        .message
                        .push_str(&format!(", must be: ',' or '{}'", close.shown()));
                    return Err(error);
                }
            }
        }
    }

    fn primary(&mut self) -> Result<Node, MathError> {
        let at = self.here();
        let expr = match self.peek().cloned() {
            Some(Token::Number(n)) => {
                self.pos += 1;
                Expr::Number(n)
            }
            Some(Token::Str(s)) => {
                self.pos += 1;
                Expr::Str(s)
            }
            Some(Token::Word(w)) if w == "AND" || w == "OR" => return Err(self.unexpected()),
            Some(Token::Word(w)) => {
                self.pos += 1;
                if self.peek() == Some(&Token::Open) {
                    self.pos += 1;
                    Expr::Call(w, self.list(Token::Close, true)?)
                } else {
                    Expr::Word(w)
                }
            }
            Some(Token::Open) => {
                self.pos += 1;
                let inner = self.nested(Self::or)?;
                self.expect(Token::Close)?;
                return Ok(inner);
            }
            Some(Token::OpenBracket) => {
                self.pos += 1;
                Expr::Array(self.list(Token::CloseBracket, false)?)
            }
            _ => return Err(self.unexpected()),
        };
        Ok(Node { expr, at })
    }
}
