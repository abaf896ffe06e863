//! The expression syntax: XLSForm's subset of XPath, so that a form's `relevant`,
//! `constraint`, `calculation` and `choice_filter` columns mean the same here as in ODK.
//!
//! ```text
//! expr    := or
//! or      := and ("or" and)*
//! and     := cmp ("and" cmp)*
//! cmp     := sum (("=" | "!=" | "<" | "<=" | ">" | ">=") sum)*
//! sum     := product (("+" | "-") product)*
//! product := unary (("*" | "div" | "mod") unary)*
//! unary   := "-" unary | primary
//! primary := number | string | "${" name "}" | "." | name "(" args ")" | name | "(" expr ")"
//! ```
//!
//! Strings take straight or typographic quotes (spreadsheets turn `'` into `‘’`). A bare
//! name is a column of the choices sheet, meaningful in a `choice_filter`.

use std::fmt;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number literal.
    Number(f64),
    /// A string literal.
    Text(String),
    /// `${name}`: the answer to a question or a computed variable, or a sample field.
    Ref(String),
    /// `.`: the answer being checked (in a constraint).
    Current,
    /// A bare name: a column of the choice being filtered (in a choice filter).
    Column(String),
    /// `-x`.
    Neg(Box<Expr>),
    /// A binary operation.
    Binary(Op, Box<Expr>, Box<Expr>),
    /// A function call.
    Call(String, Vec<Expr>),
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `or`
    Or,
    /// `and`
    And,
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `div`
    Div,
    /// `mod`
    Mod,
}

impl Op {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Or => "or",
            Op::And => "and",
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "div",
            Op::Mod => "mod",
        }
    }

    fn precedence(self) -> u8 {
        match self {
            Op::Or => 1,
            Op::And => 2,
            Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge => 3,
            Op::Add | Op::Sub => 4,
            Op::Mul | Op::Div | Op::Mod => 5,
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Number(n) => write!(f, "{n}"),
            Expr::Text(s) if s.contains('\'') => write!(f, "\"{s}\""),
            Expr::Text(s) => write!(f, "'{s}'"),
            Expr::Ref(name) => write!(f, "${{{name}}}"),
            Expr::Current => write!(f, "."),
            Expr::Column(name) => write!(f, "{name}"),
            Expr::Neg(e) => match **e {
                Expr::Binary(..) => write!(f, "-({e})"),
                _ => write!(f, "-{e}"),
            },
            Expr::Binary(op, a, b) => {
                let side = |f: &mut fmt::Formatter<'_>, e: &Expr, right: bool| match e {
                    Expr::Binary(inner, ..)
                        if inner.precedence() < op.precedence() || (right && inner.precedence() == op.precedence()) =>
                    {
                        write!(f, "({e})")
                    }
                    _ => write!(f, "{e}"),
                };
                side(f, a, false)?;
                write!(f, " {} ", op.as_str())?;
                side(f, b, true)
            }
            Expr::Call(name, args) => {
                write!(f, "{name}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{a}")?;
                }
                write!(f, ")")
            }
        }
    }
}

/// An expression is stored and shown as it reads.
impl serde::Serialize for Expr {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A syntax error, with the character position (from 1) where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at character {at}: {message}")]
pub struct SyntaxError {
    /// Where, counting characters from 1.
    pub at: usize,
    /// What is wrong.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Text(String),
    Ref(String),
    Name(String),
    Dot,
    Op(Op),
    Minus,
    LParen,
    RParen,
    Comma,
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

fn closing_quote(open: char) -> Option<char> {
    match open {
        '\'' => Some('\''),
        '"' => Some('"'),
        '‘' => Some('’'),
        '’' => Some('’'),
        '“' => Some('”'),
        _ => None,
    }
}

fn lex(source: &str) -> Result<Vec<(usize, Token)>, SyntaxError> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let err = |at: usize, message: String| SyntaxError { at: at + 1, message };
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let token = if let Some(close) = closing_quote(c) {
            let end = chars[i + 1..]
                .iter()
                .position(|&d| d == close || (close == '’' && d == '\''))
                .ok_or_else(|| err(start, format!("the text opened by {c} is not closed")))?;
            let text: String = chars[i + 1..i + 1 + end].iter().collect();
            i += end + 2;
            Token::Text(text)
        } else if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            let n = text
                .parse::<f64>()
                .map_err(|_| err(start, format!("'{text}' is not a number")))?;
            Token::Number(n)
        } else if c == '$' {
            if chars.get(i + 1) != Some(&'{') {
                return Err(err(start, "a reference is written ${name}".into()));
            }
            let end = chars[i + 2..]
                .iter()
                .position(|&d| d == '}')
                .ok_or_else(|| err(start, "the reference ${ is not closed with }".into()))?;
            let name: String = chars[i + 2..i + 2 + end].iter().collect::<String>().trim().to_string();
            if name.is_empty() || !name.chars().all(is_name_char) {
                return Err(err(start, format!("'{name}' is not a question name")));
            }
            i += end + 3;
            Token::Ref(name)
        } else if is_name_start(c) {
            while i < chars.len() && is_name_char(chars[i]) {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            match name.as_str() {
                "and" => Token::Op(Op::And),
                "or" => Token::Op(Op::Or),
                "div" => Token::Op(Op::Div),
                "mod" => Token::Op(Op::Mod),
                _ => Token::Name(name),
            }
        } else {
            let next = chars.get(i + 1).copied();
            let (token, len) = match (c, next) {
                ('!', Some('=')) => (Token::Op(Op::Ne), 2),
                ('<', Some('=')) => (Token::Op(Op::Le), 2),
                ('>', Some('=')) => (Token::Op(Op::Ge), 2),
                ('=', Some('=')) => (Token::Op(Op::Eq), 2),
                ('=', _) => (Token::Op(Op::Eq), 1),
                ('<', _) => (Token::Op(Op::Lt), 1),
                ('>', _) => (Token::Op(Op::Gt), 1),
                ('+', _) => (Token::Op(Op::Add), 1),
                ('-', _) => (Token::Minus, 1),
                ('*', _) => (Token::Op(Op::Mul), 1),
                ('(', _) => (Token::LParen, 1),
                (')', _) => (Token::RParen, 1),
                (',', _) => (Token::Comma, 1),
                ('.', _) => (Token::Dot, 1),
                _ => return Err(err(start, format!("unexpected '{c}'"))),
            };
            i += len;
            token
        };
        tokens.push((start, token));
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    pos: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |(at, _)| *at) + 1
    }

    fn error(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            at: self.at(),
            message: message.into(),
        }
    }

    fn binary_op(&self) -> Option<Op> {
        match self.peek()? {
            Token::Op(op) => Some(*op),
            Token::Minus => Some(Op::Sub),
            _ => None,
        }
    }

    fn expr(&mut self, min_precedence: u8) -> Result<Expr, SyntaxError> {
        let mut left = self.unary()?;
        while let Some(op) = self.binary_op() {
            if op.precedence() < min_precedence {
                break;
            }
            self.pos += 1;
            let right = self.expr(op.precedence() + 1)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        if self.peek() == Some(&Token::Minus) {
            self.pos += 1;
            return Ok(match self.unary()? {
                Expr::Number(n) => Expr::Number(-n),
                e => Expr::Neg(Box::new(e)),
            });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        let Some((_, token)) = self.tokens.get(self.pos).cloned() else {
            return Err(self.error("the expression ends where a value should come"));
        };
        self.pos += 1;
        match token {
            Token::Number(n) => Ok(Expr::Number(n)),
            Token::Text(s) => Ok(Expr::Text(s)),
            Token::Ref(name) => Ok(Expr::Ref(name)),
            Token::Dot => Ok(Expr::Current),
            Token::LParen => {
                let inner = self.expr(0)?;
                self.expect(&Token::RParen, "a closing parenthesis")?;
                Ok(inner)
            }
            Token::Name(name) if self.peek() == Some(&Token::LParen) => {
                self.pos += 1;
                let mut args = Vec::new();
                if self.peek() != Some(&Token::RParen) {
                    loop {
                        args.push(self.expr(0)?);
                        if self.peek() == Some(&Token::Comma) {
                            self.pos += 1;
                        } else {
                            break;
                        }
                    }
                }
                self.expect(&Token::RParen, "a closing parenthesis after the arguments")?;
                Ok(Expr::Call(name, args))
            }
            Token::Name(name) => Ok(Expr::Column(name)),
            other => {
                self.pos -= 1;
                Err(self.error(format!("expected a value, found {}", describe(&other))))
            }
        }
    }

    fn expect(&mut self, token: &Token, what: &str) -> Result<(), SyntaxError> {
        if self.peek() == Some(token) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected {what}")))
        }
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Number(n) => format!("the number {n}"),
        Token::Text(s) => format!("the text '{s}'"),
        Token::Ref(name) => format!("${{{name}}}"),
        Token::Name(name) => format!("'{name}'"),
        Token::Dot => "'.'".into(),
        Token::Op(op) => format!("'{}'", op.as_str()),
        Token::Minus => "'-'".into(),
        Token::LParen => "'('".into(),
        Token::RParen => "')'".into(),
        Token::Comma => "','".into(),
    }
}

/// Parses an expression.
pub fn parse(source: &str) -> Result<Expr, SyntaxError> {
    let tokens = lex(source)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        end: source.chars().count(),
    };
    let expr = parser.expr(0)?;
    if let Some(token) = parser.peek().cloned() {
        return Err(parser.error(format!("unexpected {} after a complete expression", describe(&token))));
    }
    Ok(expr)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn xlsform_expressions_parse_as_odk_reads_them() {
        for (source, shown) in [
            (
                "${age} >= 18 and ${consent} = 'yes'",
                "${age} >= 18 and ${consent} = 'yes'",
            ),
            ("selected(${themen}, 'other')", "selected(${themen}, 'other')"),
            ("${leader_name} = ‘other’", "${leader_name} = 'other'"),
            (
                "round(15 div (sqrt(cos(atan(${slope} div 100)))),2)",
                "round(15 div sqrt(cos(atan(${slope} div 100))), 2)",
            ),
            (". >=  ${size_constraint}", ". >= ${size_constraint}"),
            (
                "village=${village} and plant_phase=${plant_phase}",
                "village = ${village} and plant_phase = ${plant_phase}",
            ),
            ("1 - 2 - 3", "1 - 2 - 3"),
            ("1 - (2 - 3)", "1 - (2 - 3)"),
            ("(${a} or ${b}) and ${c}", "(${a} or ${b}) and ${c}"),
            ("-${x} * 2 mod 3", "-${x} * 2 mod 3"),
            ("count-selected(${q}) <= 3", "count-selected(${q}) <= 3"),
            ("today()", "today()"),
            (
                "(${p} = 'generator' \n  or ${p} = 'solar')\n",
                "${p} = 'generator' or ${p} = 'solar'",
            ),
        ] {
            let expr = parse(source).unwrap_or_else(|e| panic!("{source}: {e}"));
            assert_eq!(expr.to_string(), shown, "{source}");
        }
    }

    #[test]
    fn precedence_is_xpaths() {
        let e = parse("1 + 2 * 3 = 7 or 0").unwrap();
        let Expr::Binary(Op::Or, left, _) = e else { panic!() };
        let Expr::Binary(Op::Eq, sum, _) = *left else { panic!() };
        assert!(matches!(*sum, Expr::Binary(Op::Add, _, _)));
    }

    #[test]
    fn syntax_errors_say_where() {
        for (source, at, message) in [
            ("${age >= 18", 1, "the reference ${ is not closed with }"),
            ("${age} >= ", 11, "the expression ends where a value should come"),
            ("'yes", 1, "the text opened by ' is not closed"),
            ("${a} = 'x' )", 12, "unexpected ')' after a complete expression"),
            (
                "selected(${a}, 'x'",
                19,
                "expected a closing parenthesis after the arguments",
            ),
            ("${a} # 2", 6, "unexpected '#'"),
            ("$age", 1, "a reference is written ${name}"),
            ("1.2.3", 1, "'1.2.3' is not a number"),
        ] {
            let e = parse(source).unwrap_err();
            assert_eq!((e.at, e.message.as_str()), (at, message), "{source}");
        }
    }

    fn leaf() -> impl Strategy<Value = Expr> {
        prop_oneof![
            (0u32..1000).prop_map(|n| Expr::Number(f64::from(n))),
            "[a-z ]{0,6}".prop_map(Expr::Text),
            "[a-z][a-z0-9_]{0,6}".prop_map(Expr::Ref),
            Just(Expr::Current),
        ]
    }

    fn expr() -> impl Strategy<Value = Expr> {
        leaf().prop_recursive(4, 32, 3, |inner| {
            let ops = prop_oneof![
                Just(Op::Or),
                Just(Op::And),
                Just(Op::Eq),
                Just(Op::Ne),
                Just(Op::Lt),
                Just(Op::Ge),
                Just(Op::Add),
                Just(Op::Sub),
                Just(Op::Mul),
                Just(Op::Div),
                Just(Op::Mod),
            ];
            prop_oneof![
                (ops, inner.clone(), inner.clone()).prop_map(|(op, a, b)| Expr::Binary(op, Box::new(a), Box::new(b))),
                inner.clone().prop_map(|e| Expr::Neg(Box::new(e))),
                (
                    "[a-z][a-z-]{0,8}".prop_filter("not an operator", |f| !matches!(
                        f.as_str(),
                        "and" | "or" | "div" | "mod"
                    )),
                    proptest::collection::vec(inner, 0..3),
                )
                    .prop_map(|(f, args)| Expr::Call(f, args)),
            ]
        })
    }

    /// A negated number literal prints as a negative number and parses back as one.
    fn normalise(e: Expr) -> Expr {
        match e {
            Expr::Neg(inner) => match normalise(*inner) {
                Expr::Number(n) => Expr::Number(-n),
                other => Expr::Neg(Box::new(other)),
            },
            Expr::Binary(op, a, b) => Expr::Binary(op, Box::new(normalise(*a)), Box::new(normalise(*b))),
            Expr::Call(f, args) => Expr::Call(f, args.into_iter().map(normalise).collect()),
            other => other,
        }
    }

    proptest! {
        /// What an expression prints as parses back to the same expression.
        #[test]
        fn printing_and_parsing_agree(e in expr()) {
            let e = normalise(e);
            let shown = e.to_string();
            let parsed = parse(&shown);
            prop_assert!(parsed.is_ok(), "{shown}: {parsed:?}");
            prop_assert_eq!(parsed.unwrap(), e, "{}", shown);
        }

        /// Any text either parses or is refused with a position inside it; nothing panics.
        #[test]
        fn any_text_parses_or_is_refused_in_place(source in "\\PC{0,40}") {
            if let Err(e) = parse(&source) {
                prop_assert!(e.at >= 1 && e.at <= source.chars().count() + 1, "{e} in {source:?}");
            }
        }
    }
}
