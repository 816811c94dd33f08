//! A position in a filter pattern, for the hand-written parsers of each pattern form.

pub struct Cursor<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(text: &'a str) -> Self {
        Self { text, pos: 0 }
    }

    pub fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    pub fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    pub fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    pub fn skip_whitespace(&mut self) {
        self.take_while(char::is_whitespace);
    }

    /// Consumes `expected` if the text continues with it.
    pub fn eat(&mut self, expected: &str) -> bool {
        if self.rest().starts_with(expected) {
            self.pos += expected.len();
            true
        } else {
            false
        }
    }

    /// Consumes a keyword: `expected` not followed by another word character.
    pub fn eat_keyword(&mut self, expected: &str) -> bool {
        let rest = self.rest();
        let follows_word = rest[expected.len().min(rest.len())..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if rest.starts_with(expected) && !follows_word {
            self.pos += expected.len();
            true
        } else {
            false
        }
    }

    pub fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek().filter(|c| keep(*c)) {
            self.pos += c.len_utf8();
        }
        &self.text[start..self.pos]
    }

    /// The text up to (not including) the next unescaped `close`, which is consumed; `\close`
    /// and `\\` are unescaped. `None` when the text ends first.
    pub fn take_until_unescaped(&mut self, close: char) -> Option<String> {
        let mut out = String::new();
        loop {
            match self.bump()? {
                '\\' => match self.peek() {
                    Some(c) if c == close || c == '\\' => {
                        out.push(c);
                        self.bump();
                    }
                    _ => out.push('\\'),
                },
                c if c == close => return Some(out),
                c => out.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_need_a_word_boundary() {
        let mut c = Cursor::new("NULLABLE");
        assert!(!c.eat_keyword("NULL"));
        let mut c = Cursor::new("NULL }");
        assert!(c.eat_keyword("NULL"));
        assert_eq!(c.rest(), " }");
    }

    #[test]
    fn quoted_text_unescapes_the_closing_character() {
        let mut c = Cursor::new(r#"say \"hi\" \d"rest"#);
        assert_eq!(c.take_until_unescaped('"').unwrap(), r#"say "hi" \d"#);
        assert_eq!(c.rest(), "rest");
        assert_eq!(Cursor::new("open").take_until_unescaped('"'), None);
    }
}
