//! Typing of plain scalars the way Kubernetes' YAML decoder (go-yaml v2 behind
//! sigs.k8s.io/yaml, YAML 1.1 rules) types them: `yes`/`no`/`on`/`off` are booleans, `0644` is
//! octal, `~` is null. Quoted, block and tagged scalars are always strings.

use std::borrow::Cow;

/// The value of a plain scalar after YAML 1.1 resolution.
#[derive(Debug, Clone, PartialEq)]
pub enum Typed<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(&'a str),
}

/// Resolves a scalar; `plain` is false for quoted, block and tagged scalars.
#[must_use]
pub fn resolve(value: &str, plain: bool) -> Typed<'_> {
    if !plain {
        return Typed::Str(value);
    }
    match value {
        "" | "~" | "null" | "Null" | "NULL" => return Typed::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Typed::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Typed::Bool(false);
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Typed::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Typed::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Typed::Float(f64::NAN),
        _ => {}
    }
    let first = value.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Typed::Str(value);
    }
    if let Some(t) = integer(value) {
        return t;
    }
    if is_float(value) {
        let cleaned = value.replace('_', "");
        if let Ok(f) = cleaned.parse::<f64>() {
            return Typed::Float(f);
        }
    }
    Typed::Str(value)
}

fn integer(value: &str) -> Option<Typed<'_>> {
    let (neg, body) = match value.as_bytes()[0] {
        b'-' => (true, &value[1..]),
        b'+' => (false, &value[1..]),
        _ => (false, value),
    };
    let body = body.replace('_', "");
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0b") {
        (2, d)
    } else if let Some(d) = body.strip_prefix("0o") {
        (8, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        let v = i64::try_from(magnitude)
            .ok()
            .map(|m| -m)
            .or_else(|| (magnitude == 1 << 63).then_some(i64::MIN))?;
        Some(Typed::Int(v))
    } else if let Ok(v) = i64::try_from(magnitude) {
        Some(Typed::Int(v))
    } else {
        Some(Typed::UInt(magnitude))
    }
}

/// `[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?`
fn is_float(value: &str) -> bool {
    let b = value.as_bytes();
    let mut i = usize::from(matches!(b[0], b'-' | b'+'));
    let digits = |i: &mut usize| {
        let s = *i;
        while *i < b.len() && (b[*i].is_ascii_digit() || b[*i] == b'_') {
            *i += 1;
        }
        *i > s
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    } else {
        if !digits(&mut i) {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let s = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == s {
            return false;
        }
    }
    i == b.len()
}

/// A mapping key as a string, as sigs.k8s.io/yaml converts keys to JSON: `true: x` has the key
/// `"true"`, `0x10: x` has the key `"16"`.
#[must_use]
pub fn key_string(value: &str, plain: bool) -> Cow<'_, str> {
    match resolve(value, plain) {
        Typed::Str(s) => Cow::Borrowed(s),
        Typed::Null => Cow::Borrowed("null"),
        Typed::Bool(b) => Cow::Borrowed(if b { "true" } else { "false" }),
        Typed::Int(i) => Cow::Owned(i.to_string()),
        Typed::UInt(u) => Cow::Owned(u.to_string()),
        Typed::Float(f) => Cow::Owned(f.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml11_booleans_and_nulls() {
        assert_eq!(resolve("yes", true), Typed::Bool(true));
        assert_eq!(resolve("Off", true), Typed::Bool(false));
        assert_eq!(resolve("~", true), Typed::Null);
        assert_eq!(resolve("yes", false), Typed::Str("yes"));
    }

    #[test]
    fn yaml11_integers() {
        assert_eq!(resolve("0644", true), Typed::Int(420));
        assert_eq!(resolve("0x1F", true), Typed::Int(31));
        assert_eq!(resolve("-1_000", true), Typed::Int(-1000));
        assert_eq!(resolve("0", true), Typed::Int(0));
        // go-yaml v2 falls back to its float pattern when an octal parse fails.
        assert_eq!(resolve("09", true), Typed::Float(9.0));
    }

    #[test]
    fn floats_and_addresses() {
        assert_eq!(resolve("1.5", true), Typed::Float(1.5));
        assert_eq!(resolve("1e3", true), Typed::Float(1000.0));
        assert_eq!(resolve("192.0.2.1", true), Typed::Str("192.0.2.1"));
        assert_eq!(resolve("1.2.3", true), Typed::Str("1.2.3"));
    }

    #[test]
    fn keys_are_stringified_like_yaml_to_json() {
        assert_eq!(key_string("on", true), "true");
        assert_eq!(key_string("010", true), "8");
        assert_eq!(key_string("on", false), "on");
    }
}
