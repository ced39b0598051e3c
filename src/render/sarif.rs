//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning.
//!
//! Repository-relative URIs under `%SRCROOT%`, full regions in Unicode code points, rule
//! metadata from each rule's `RuleMeta`, and `partialFingerprints` built from the rule, the
//! object's identity and the field path (never from line numbers), so an alert survives edits
//! above it. Built with `serde_json` directly: the document is small and the schema test
//! (tests/render.rs) checks it against the official schema.

use std::fmt::Write as _;
use std::io::{self, Write};

use serde_json::{Value, json};

use super::{DOCS_BASE, HOMEPAGE, locate};
use crate::Report;
use crate::finding::{Finding, Severity};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// Percent-encodes what a URI reference may not hold; keeps `/`.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// FNV-1a, 64 bits: stable across platforms and releases, unlike `DefaultHasher`.
fn fnv1a(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn physical(report: &Report, f: &Finding, span: crate::source::Span, origin: bool) -> Value {
    let l = locate(report, span, if origin { f.origin.as_ref() } else { None });
    json!({
        "artifactLocation": {"uri": uri(&l.path), "uriBaseId": "%SRCROOT%"},
        "region": {
            "startLine": l.start.line,
            "startColumn": l.start.column,
            "endLine": l.end.line,
            "endColumn": l.end.column,
        },
    })
}

/// One SARIF result.
fn result(report: &Report, f: &Finding) -> Value {
    {
        let rule_index = report.rules.iter().position(|(m, _)| m.code == f.rule.code);
        let file = &report.files[f.primary.span.file.0 as usize];
        let identity = f.object.as_ref().map_or_else(
            || format!("file:{}", file.name),
            |o| {
                format!(
                    "{}/{}/{}",
                    o.kind,
                    o.namespace.as_deref().unwrap_or(""),
                    o.name
                )
            },
        );
        let what = if f.object.is_some() {
            f.pointer.as_str()
        } else {
            f.message.as_str()
        };
        let mut message = format!("{}\n{}", f.message, f.help);
        for n in &f.notes {
            message.push_str("\nnote: ");
            message.push_str(n);
        }
        let mut r = json!({
            "ruleId": f.rule.code,
            "level": level(f.severity),
            "message": {"text": message},
            "locations": [{
                "physicalLocation": physical(report, f, f.primary.span, true),
                "logicalLocations": f.object.as_ref().map(|o| vec![json!({
                    "fullyQualifiedName": format!("{}/{}", o.kind, o.qualified_name()),
                    "kind": "object",
                })]).unwrap_or_default(),
            }],
            "relatedLocations": f.related.iter().enumerate().map(|(i, l)| json!({
                "id": i + 1,
                "physicalLocation": physical(report, f, l.span, false),
                "message": {"text": l.text},
            })).collect::<Vec<_>>(),
            "partialFingerprints": {
                "extipLint/v1": fnv1a(&[f.rule.code, &identity, what]),
            },
        });
        if let Some(i) = rule_index {
            r["ruleIndex"] = json!(i);
        }
        if let Some(s) = &f.suppressed {
            r["suppressions"] = json!([{
                "kind": "inSource",
                "justification": s.reason.clone().unwrap_or_default(),
            }]);
        }
        r
    }
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let rules: Vec<Value> = report
        .rules
        .iter()
        .map(|(m, sev)| {
            json!({
                "id": m.code,
                "name": m.name,
                "shortDescription": {"text": m.summary},
                "fullDescription": {"text": format!("{}: {}", m.name, m.summary)},
                "help": {"text": m.docs, "markdown": m.docs},
                "helpUri": format!("{DOCS_BASE}{}", m.doc_file()),
                "defaultConfiguration": {"level": level(*sev)},
                "properties": {
                    "tags": m.tags,
                    "security-severity": m.security_severity,
                    "precision": "very-high",
                },
            })
        })
        .collect();
    let notifications: Vec<Value> = report
        .notices
        .iter()
        .map(|n| json!({"level": "note", "message": {"text": n}}))
        .chain(
            report
                .errors
                .iter()
                .map(|e| json!({"level": "error", "message": {"text": e.to_string()}})),
        )
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "extip-lint",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": HOMEPAGE,
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": [],
            "properties": {
                "profile": report.profile.profile.as_str(),
                "profileReason": report.profile.reason,
            },
        }],
    });
    // The results are serialized one at a time into the document's `results` array, so a
    // report with many findings never exists as one JSON tree in memory.
    let mut doc = doc;
    doc["runs"][0]["results"] = json!(RESULTS_MARK);
    let text = serde_json::to_string_pretty(&doc).map_err(io::Error::other)?;
    let mark = format!("\"{RESULTS_MARK}\"");
    let (head, tail) = text.split_once(&mark).unwrap_or((&text, ""));
    out.write_all(head.as_bytes())?;
    out.write_all(b"[")?;
    for (i, f) in report.findings.iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        let item = serde_json::to_string_pretty(&result(report, f)).map_err(io::Error::other)?;
        for (j, line) in item.lines().enumerate() {
            if j > 0 {
                out.write_all(b"\n")?;
            }
            out.write_all(b"        ")?;
            out.write_all(line.as_bytes())?;
        }
    }
    out.write_all(if report.findings.is_empty() {
        b"]"
    } else {
        b"\n      ]"
    })?;
    out.write_all(tail.as_bytes())?;
    writeln!(out)
}

const RESULTS_MARK: &str = "@@extip-lint:results@@";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded_but_keep_slashes() {
        assert_eq!(uri("a dir/ü.yaml"), "a%20dir/%C3%BC.yaml");
    }

    #[test]
    fn fingerprints_are_stable() {
        assert_eq!(
            fnv1a(&["EXT002", "Service/shop/web", "/spec/externalIPs/1"]),
            fnv1a(&["EXT002", "Service/shop/web", "/spec/externalIPs/1"])
        );
        assert_ne!(fnv1a(&["a", "bc"]), fnv1a(&["ab", "c"]));
    }
}
