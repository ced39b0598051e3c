//! Typing of scalars the way Kubernetes' YAML decoder (go-yaml v2 behind sigs.k8s.io/yaml,
//! YAML 1.1 rules) types them: a plain scalar is resolved (`yes`/`no`/`on`/`off` are booleans,
//! `0644` is octal, `~` is null); a quoted or block scalar is a string; an explicit tag asks for
//! its type (`!!int "80"` is 80, `!!str 80` is `"80"`), and a tag Kubernetes does not resolve
//! (`!custom`) leaves a string.

use std::borrow::Cow;

/// How a scalar is typed: its style and tag, as go-yaml v2 looks at them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Plain and untagged: resolved by its text.
    Plain,
    /// Quoted, block, `!!str`-tagged, or tagged with a tag go-yaml does not resolve.
    Str,
    /// Explicitly tagged with one of the types go-yaml resolves.
    Tagged(Tag),
}

/// The YAML 1.1 types an explicit tag may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    Bool,
    Int,
    Float,
    Null,
    /// `!!timestamp`: Kubernetes keeps the text.
    Timestamp,
}

impl Style {
    /// The style of a scalar event: `plain` for the plain style, `tag` its resolved tag URI.
    #[must_use]
    pub fn of(plain: bool, tag: Option<&str>) -> Style {
        let Some(tag) = tag else {
            return if plain { Style::Plain } else { Style::Str };
        };
        match tag.strip_prefix("tag:yaml.org,2002:") {
            Some("bool") => Style::Tagged(Tag::Bool),
            Some("int") => Style::Tagged(Tag::Int),
            Some("float") => Style::Tagged(Tag::Float),
            Some("null") => Style::Tagged(Tag::Null),
            Some("timestamp") => Style::Tagged(Tag::Timestamp),
            _ => Style::Str,
        }
    }
}

/// The text of a `!!binary` scalar as go-yaml gives it: the base64 (standard alphabet, line
/// breaks ignored) decoded, each byte that is not UTF-8 read as U+FFFD (as the JSON kubectl
/// writes holds it).
pub fn binary(value: &str) -> Result<String, String> {
    let mut bits: u32 = 0;
    let mut n = 0;
    let mut bytes = Vec::with_capacity(value.len() * 3 / 4);
    let mut padding = 0;
    for c in value.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'\r' | b'\n' => continue,
            b'=' => {
                padding += 1;
                continue;
            }
            _ => return Err("!!binary value contains invalid base64 data".into()),
        };
        if padding > 0 {
            return Err("!!binary value contains invalid base64 data".into());
        }
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            bytes.push((bits >> n) as u8);
        }
    }
    let chars = value
        .bytes()
        .filter(|b| !matches!(b, b'\r' | b'\n'))
        .count();
    if chars % 4 != 0 || padding > 2 {
        return Err("!!binary value contains invalid base64 data".into());
    }
    Ok(crate::source::lossy(&bytes).0)
}

/// Checks an explicitly tagged scalar as go-yaml does: the text must resolve to the tag's type
/// (an integer is accepted as a float). Returns go-yaml's message when it does not.
pub fn check_tagged(value: &str, tag: Tag) -> Result<(), String> {
    let got = resolve(value, Style::Plain);
    let ok = matches!(
        (tag, &got),
        (Tag::Bool, Typed::Bool(_))
            | (Tag::Int, Typed::Int(_) | Typed::UInt(_))
            | (Tag::Float, Typed::Float(_) | Typed::Int(_) | Typed::UInt(_))
            | (Tag::Null, Typed::Null)
            | (Tag::Timestamp, _)
    );
    if ok {
        return Ok(());
    }
    let name = |t: Tag| match t {
        Tag::Bool => "!!bool",
        Tag::Int => "!!int",
        Tag::Float => "!!float",
        Tag::Null => "!!null",
        Tag::Timestamp => "!!timestamp",
    };
    let got_name = match got {
        Typed::Null => "!!null",
        Typed::Bool(_) => "!!bool",
        Typed::Int(_) | Typed::UInt(_) => "!!int",
        Typed::Float(_) => "!!float",
        Typed::Str(_) => "!!str",
    };
    Err(format!(
        "cannot decode {got_name} `{value}` as a {}",
        name(tag)
    ))
}

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

/// Resolves a scalar of the given style.
#[must_use]
pub fn resolve(value: &str, style: Style) -> Typed<'_> {
    match style {
        Style::Str | Style::Tagged(Tag::Timestamp) => return Typed::Str(value),
        #[allow(clippy::cast_precision_loss)]
        Style::Tagged(Tag::Float) => {
            // `!!float 1` is 1.0 (checked by `check_tagged`).
            return match resolve(value, Style::Plain) {
                Typed::Int(i) => Typed::Float(i as f64),
                Typed::UInt(u) => Typed::Float(u as f64),
                other => other,
            };
        }
        Style::Plain | Style::Tagged(_) => {}
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
pub fn key_string(value: &str, style: Style) -> Cow<'_, str> {
    match resolve(value, style) {
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

    const P: Style = Style::Plain;

    #[test]
    fn yaml11_booleans_and_nulls() {
        assert_eq!(resolve("yes", P), Typed::Bool(true));
        assert_eq!(resolve("Off", P), Typed::Bool(false));
        assert_eq!(resolve("~", P), Typed::Null);
        assert_eq!(resolve("yes", Style::Str), Typed::Str("yes"));
    }

    #[test]
    fn yaml11_integers() {
        assert_eq!(resolve("0644", P), Typed::Int(420));
        assert_eq!(resolve("0x1F", P), Typed::Int(31));
        assert_eq!(resolve("-1_000", P), Typed::Int(-1000));
        assert_eq!(resolve("0", P), Typed::Int(0));
        // go-yaml v2 falls back to its float pattern when an octal parse fails.
        assert_eq!(resolve("09", P), Typed::Float(9.0));
    }

    #[test]
    fn floats_and_addresses() {
        assert_eq!(resolve("1.5", P), Typed::Float(1.5));
        assert_eq!(resolve("1e3", P), Typed::Float(1000.0));
        assert_eq!(resolve("192.0.2.1", P), Typed::Str("192.0.2.1"));
        assert_eq!(resolve("1.2.3", P), Typed::Str("1.2.3"));
    }

    #[test]
    fn keys_are_stringified_like_yaml_to_json() {
        assert_eq!(key_string("on", P), "true");
        assert_eq!(key_string("010", P), "8");
        assert_eq!(key_string("on", Style::Str), "on");
    }

    #[test]
    fn explicit_tags_ask_for_their_type() {
        let int = Style::Tagged(Tag::Int);
        assert_eq!(resolve("80", int), Typed::Int(80));
        assert!(check_tagged("80", Tag::Int).is_ok());
        assert_eq!(
            check_tagged("eighty", Tag::Int),
            Err("cannot decode !!str `eighty` as a !!int".into())
        );
        assert_eq!(resolve("1", Style::Tagged(Tag::Float)), Typed::Float(1.0));
        assert_eq!(Style::of(false, Some("tag:yaml.org,2002:str")), Style::Str);
        assert_eq!(Style::of(true, Some("!custom")), Style::Str);
        assert_eq!(Style::of(true, None), Style::Plain);
    }
}
