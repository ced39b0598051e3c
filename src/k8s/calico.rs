//! Calico's selector language, as libcalico-go parses and evaluates it: `app == 'web'`,
//! `tier != 'db'` (also true when the label is absent), `k in {'a', 'b'}`, `k not in {...}`,
//! `has(k)`, `!`, `&&`, `||`, parentheses, `all()`, `global()`, `contains`, `starts with`,
//! `ends with`. `!` binds tightest, then `&&`, then `||`; an empty selector is `all()`. Only
//! space and tab separate tokens (a line break outside quotes is an error); strings are quoted
//! with `'` or `"` and have no escapes; label names are 1 to 512 of `[A-Za-z0-9_./-]`.
//! <https://docs.tigera.io/calico/latest/reference/resources/networkpolicy#selectors>

use std::fmt::Write as _;

use crate::k8s::selector::{Fit, Label, PodLabels};

/// A parsed selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    expr: Expr,
    /// The selector as written, for messages.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    All,
    /// `global()`: true as an expression (its meaning comes from where it is written).
    Global,
    Has(String),
    Cmp(String, Op, String),
    In(String, Vec<String>, bool),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
    Eq,
    Ne,
    Not,
    And,
    Or,
    Str(String),
    Label(String),
    Has(String),
    All,
    Global,
    Contains,
    StartsWith,
    EndsWith,
    In,
    NotIn,
}

const MAX_LABEL: usize = 512;

fn label_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-')
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i
}

/// `word` at `i`, followed by a word boundary.
fn keyword(b: &[u8], i: usize, word: &str) -> Option<usize> {
    let end = i + word.len();
    (b.get(i..end) == Some(word.as_bytes()) && !b.get(end).copied().is_some_and(label_char))
        .then_some(end)
}

/// `first`, blanks, `second`, at `i` (`starts with`, `startswith`).
fn two_words(b: &[u8], i: usize, first: &str, second: &str) -> Option<usize> {
    let mid = i + first.len();
    if b.get(i..mid) != Some(first.as_bytes()) {
        return None;
    }
    keyword(b, skip_ws(b, mid), second)
}

fn label_at(b: &[u8], i: usize) -> Result<(String, usize), String> {
    let mut end = i;
    while end < b.len() && label_char(b[end]) {
        end += 1;
    }
    if end == i {
        return Err("expected identifier".into());
    }
    if end - i > MAX_LABEL {
        return Err(format!("label too long (more than {MAX_LABEL} characters)"));
    }
    Ok((String::from_utf8_lossy(&b[i..end]).into_owned(), end))
}

/// `name(` blanks label-or-nothing blanks `)` at `i`.
fn call(
    b: &[u8],
    i: usize,
    name: &str,
    arg: bool,
) -> Result<Option<(Option<String>, usize)>, String> {
    let open = format!("{name}(");
    if b.get(i..i + open.len()) != Some(open.as_bytes()) {
        return Ok(None);
    }
    let mut j = skip_ws(b, i + open.len());
    let value = if arg {
        let (l, end) = label_at(b, j)?;
        j = skip_ws(b, end);
        Some(l)
    } else {
        None
    };
    if b.get(j) != Some(&b')') {
        return Err(format!("no closing ')' after {open}"));
    }
    Ok(Some((value, j + 1)))
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = skip_ws(b, 0);
    while i < b.len() {
        let after_label = matches!(out.last(), Some(Token::Label(_)));
        let (tok, next) = match b[i] {
            b'(' => (Token::LParen, i + 1),
            b')' => (Token::RParen, i + 1),
            b'{' => (Token::LBrace, i + 1),
            b'}' => (Token::RBrace, i + 1),
            b',' => (Token::Comma, i + 1),
            b'=' if b.get(i + 1) == Some(&b'=') => (Token::Eq, i + 2),
            b'=' => return Err("expected ==".into()),
            b'!' if b.get(i + 1) == Some(&b'=') => (Token::Ne, i + 2),
            b'!' => (Token::Not, i + 1),
            b'&' if b.get(i + 1) == Some(&b'&') => (Token::And, i + 2),
            b'&' => return Err("expected &&".into()),
            b'|' if b.get(i + 1) == Some(&b'|') => (Token::Or, i + 2),
            b'|' => return Err("expected ||".into()),
            q @ (b'\'' | b'"') => {
                let Some(len) = b[i + 1..].iter().position(|&c| c == q) else {
                    return Err("unterminated string".into());
                };
                let s = String::from_utf8_lossy(&b[i + 1..i + 1 + len]).into_owned();
                (Token::Str(s), i + len + 2)
            }
            _ if after_label => {
                if let Some(e) = keyword(b, i, "contains") {
                    (Token::Contains, e)
                } else if let Some(e) = two_words(b, i, "starts", "with") {
                    (Token::StartsWith, e)
                } else if let Some(e) = two_words(b, i, "ends", "with") {
                    (Token::EndsWith, e)
                } else if let Some(e) = two_words(b, i, "not", "in") {
                    (Token::NotIn, e)
                } else if let Some(e) = keyword(b, i, "in") {
                    (Token::In, e)
                } else {
                    let Some(Token::Label(l)) = out.last() else {
                        unreachable!("BUG: after a label");
                    };
                    return Err(format!("expected operator after label \"{l}\""));
                }
            }
            _ => {
                if let Some((l, e)) = call(b, i, "has", true)? {
                    (Token::Has(l.unwrap_or_default()), e)
                } else if let Some((_, e)) = call(b, i, "all", false)? {
                    (Token::All, e)
                } else if let Some((_, e)) = call(b, i, "global", false)? {
                    (Token::Global, e)
                } else {
                    let (l, e) = label_at(b, i)?;
                    (Token::Label(l), e)
                }
            }
        };
        out.push(tok);
        i = skip_ws(b, next);
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut items = vec![self.unary()?];
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self) -> Result<Expr, String> {
        let mut negations = 0;
        while self.peek() == Some(&Token::Not) {
            self.pos += 1;
            negations += 1;
        }
        let e = self.primary()?;
        Ok(if negations % 2 == 1 {
            Expr::Not(Box::new(e))
        } else {
            e
        })
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::All) => Ok(Expr::All),
            Some(Token::Global) => Ok(Expr::Global),
            Some(Token::Has(l)) => Ok(Expr::Has(l)),
            Some(Token::LParen) => {
                let e = self.or()?;
                match self.next() {
                    Some(Token::RParen) => Ok(e),
                    _ => Err("expected )".into()),
                }
            }
            Some(Token::Label(l)) => {
                let op = match self.next() {
                    Some(Token::Eq) => Op::Eq,
                    Some(Token::Ne) => Op::Ne,
                    Some(Token::Contains) => Op::Contains,
                    Some(Token::StartsWith) => Op::StartsWith,
                    Some(Token::EndsWith) => Op::EndsWith,
                    Some(t @ (Token::In | Token::NotIn)) => {
                        return self.set(l, t == Token::In);
                    }
                    None => return Err("unexpected end of string looking for op".into()),
                    Some(t) => return Err(format!("expected == or != not: {t:?}")),
                };
                match self.next() {
                    Some(Token::Str(v)) => Ok(Expr::Cmp(l, op, v)),
                    _ => Err("expected string".into()),
                }
            }
            None => Err("unexpected end of string".into()),
            Some(t) => Err(format!("unexpected token: {t:?}")),
        }
    }

    fn set(&mut self, label: String, is_in: bool) -> Result<Expr, String> {
        if self.next() != Some(Token::LBrace) {
            return Err("expected set literal".into());
        }
        let mut values = Vec::new();
        loop {
            match self.next() {
                Some(Token::RBrace) => break,
                Some(Token::Str(v)) => {
                    values.push(v);
                    match self.next() {
                        Some(Token::Comma) => {}
                        Some(Token::RBrace) => break,
                        _ => return Err("expected }".into()),
                    }
                }
                _ => return Err("expected }".into()),
            }
        }
        Ok(Expr::In(label, values, is_in))
    }
}

impl Selector {
    /// Parses a selector as Calico validates it; the error is Calico's message.
    pub fn parse(text: &str) -> Result<Selector, String> {
        let toks = tokens(text)?;
        if toks.is_empty() {
            return Ok(Selector {
                expr: Expr::All,
                text: text.to_string(),
            });
        }
        let mut p = Parser { toks, pos: 0 };
        let expr = p.or()?;
        if p.pos < p.toks.len() {
            return Err("unexpected content at end of selector".into());
        }
        Ok(Selector {
            expr,
            text: text.to_string(),
        })
    }

    /// Whether the selector uses `global()` anywhere (only allowed as a whole rule
    /// namespaceSelector, never on a policy).
    #[must_use]
    pub fn uses_global(&self) -> bool {
        fn any(e: &Expr) -> bool {
            match e {
                Expr::Global => true,
                Expr::Not(e) => any(e),
                Expr::And(es) | Expr::Or(es) => es.iter().any(any),
                _ => false,
            }
        }
        any(&self.expr)
    }

    /// Whether the selector selects pods with `labels`; a requirement on a label whose value no
    /// manifest shows is assumed to hold either way.
    #[must_use]
    pub fn fit(&self, labels: &PodLabels) -> Fit {
        match eval(&self.expr, labels) {
            Tri::Yes => Fit::Yes,
            Tri::Assumed(k) => Fit::Assumed(k),
            Tri::No | Tri::Partly => Fit::No(self.text.trim().to_string()),
        }
    }

    /// The selector in Calico's notation, for messages.
    #[must_use]
    pub fn describe(&self) -> String {
        let t = self.text.trim();
        if t.is_empty() {
            "all()".into()
        } else {
            let mut s = String::new();
            let _ = write!(s, "{t}");
            s
        }
    }
}

/// Whether an expression holds for every pod of a set: yes, no, dependent on a label value no
/// manifest shows, or for some of the pods only (a label whose value differs per pod).
enum Tri {
    Yes,
    No,
    Assumed(String),
    Partly,
}

fn eval(e: &Expr, labels: &PodLabels) -> Tri {
    let known = |k: &str, f: &dyn Fn(Option<&str>) -> bool| match labels.get(k) {
        Label::Is(v) => tri(f(Some(v))),
        Label::Absent => tri(f(None)),
        Label::Unknown => Tri::Assumed(k.to_string()),
        Label::Varies => Tri::Partly,
    };
    match e {
        Expr::All | Expr::Global => Tri::Yes,
        Expr::Has(k) => tri(labels.get(k) != Label::Absent),
        Expr::Cmp(k, op, v) => known(k, &|have| match (op, have) {
            (Op::Eq, h) => h == Some(v.as_str()),
            (Op::Ne, h) => h != Some(v.as_str()),
            (Op::Contains, h) => h.is_some_and(|h| h.contains(v.as_str())),
            (Op::StartsWith, h) => h.is_some_and(|h| h.starts_with(v.as_str())),
            (Op::EndsWith, h) => h.is_some_and(|h| h.ends_with(v.as_str())),
        }),
        Expr::In(k, vs, is_in) => known(k, &|have| {
            let member = have.is_some_and(|h| vs.iter().any(|v| v == h));
            if *is_in { member } else { !member }
        }),
        Expr::Not(e) => match eval(e, labels) {
            Tri::Yes => Tri::No,
            Tri::No => Tri::Yes,
            a @ (Tri::Assumed(_) | Tri::Partly) => a,
        },
        Expr::And(es) => {
            let mut assumed = None;
            let mut partly = false;
            for e in es {
                match eval(e, labels) {
                    Tri::No => return Tri::No,
                    Tri::Assumed(k) => {
                        assumed.get_or_insert(k);
                    }
                    Tri::Partly => partly = true,
                    Tri::Yes => {}
                }
            }
            if partly {
                Tri::Partly
            } else {
                assumed.map_or(Tri::Yes, Tri::Assumed)
            }
        }
        Expr::Or(es) => {
            let mut assumed = None;
            let mut partly = false;
            for e in es {
                match eval(e, labels) {
                    Tri::Yes => return Tri::Yes,
                    Tri::Assumed(k) => {
                        assumed.get_or_insert(k);
                    }
                    Tri::Partly => partly = true,
                    Tri::No => {}
                }
            }
            match assumed {
                Some(k) => Tri::Assumed(k),
                None if partly => Tri::Partly,
                None => Tri::No,
            }
        }
    }
}

fn tri(b: bool) -> Tri {
    if b { Tri::Yes } else { Tri::No }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn pod(pairs: &[(&str, &str)]) -> PodLabels {
        PodLabels::known(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    fn selects(sel: &str, labels: &[(&str, &str)]) -> bool {
        Selector::parse(sel)
            .unwrap_or_else(|e| panic!("{sel}: {e}"))
            .fit(&pod(labels))
            .selects()
    }

    #[test]
    fn every_operator_evaluates_as_calico_does() {
        let p = [("app", "web"), ("tier", "front-end")];
        assert!(selects("app == 'web'", &p));
        assert!(selects("app == \"web\"", &p));
        assert!(!selects("app != 'web'", &p));
        assert!(
            selects("team != 'a'", &p),
            "!= holds when the label is absent"
        );
        assert!(selects("app in {'web', 'api'}", &p));
        assert!(!selects("app in {}", &p));
        assert!(selects("team not in {'a'}", &p), "not in holds when absent");
        assert!(selects("has(tier)", &p));
        assert!(selects("!has(team)", &p));
        assert!(selects("tier contains 'end'", &p));
        assert!(selects("tier starts with 'front'", &p));
        assert!(selects("tier startswith 'front'", &p));
        assert!(selects("tier ends with 'end'", &p));
        assert!(selects("all()", &p));
        assert!(selects("", &p));
        assert!(selects("  ", &p));
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        let p = [("a", "1")];
        // `!` binds to one primary; `&&` before `||`.
        assert!(selects("a == '2' || a == '1' && has(a)", &p));
        assert!(!selects("(a == '2' || a == '1') && has(b)", &p));
        assert!(selects("!a == '2'", &p));
        assert!(selects("!!a == '1'", &p));
        assert!(selects("!(a == '1' && has(b))", &p));
    }

    #[test]
    fn invalid_selectors_are_rejected_with_calicos_messages() {
        for (sel, msg) in [
            ("b == b", "expected string"),
            ("b", "unexpected end of string looking for op"),
            ("a b", "expected operator after label \"a\""),
            ("!", "unexpected end of string"),
            ("foo == \"bar\" &", "expected &&"),
            ("foo in \"\"", "expected set literal"),
            ("\"FOO", "unterminated string"),
            ("(a == 'foo'", "expected )"),
            ("has (k)", "expected == or != not: LParen"),
            ("a = 'b'", "expected =="),
            ("a == 'b' c == 'd'", "unexpected content at end of selector"),
            ("app == 'web'\n", "expected identifier"),
        ] {
            assert_eq!(
                Selector::parse(sel).map(|_| ()),
                Err(msg.to_string()),
                "{sel}"
            );
        }
    }

    #[test]
    fn unknown_values_are_assumed_either_way() {
        let mut p = pod(&[("app", "web")]);
        p.unknown.insert("pod-template-hash".into());
        let s = Selector::parse("pod-template-hash == 'abc' && app == 'web'").expect("valid");
        assert_eq!(s.fit(&p), Fit::Assumed("pod-template-hash".into()));
        let s = Selector::parse("!has(pod-template-hash)").expect("valid");
        assert!(!s.fit(&p).selects());
    }
}
