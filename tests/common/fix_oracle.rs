//! What every `--fix --unsafe-fixes` must keep, checked from outside the fix stage: shared by
//! the property test (`tests/properties.rs`) and the `fix` fuzz target
//! (`fuzz/fuzz_targets/fix.rs`, which includes this file by path).
//!
//! For a manifest on disk, lint it, apply every fix (unsafe ones too), and then:
//! 1. the file's bytes outside the edits are exactly as they were;
//! 2. the fixed file reads with no new EXT900 (unreadable or rejected document) or EXT902;
//! 3. every object read before is read after, and the only new objects are address pools;
//! 4. an object whose finding was fixed changes only where fixes change Services (`type`,
//!    `externalIPs`, `loadBalancerIP`, annotations); every other object is exactly as it was;
//! 5. a second run applies no fix of a finding the first one fixed.
//!
//! Objects are compared as the reader reads them (JSON values, aliases and merge keys
//! expanded); the kubectl differential tests prove that reader against kubectl.

use std::collections::BTreeMap;
use std::path::Path;

use extip_lint::config::{self, Overrides};
use extip_lint::yaml::{self, BuildLimits};

/// The config every case is linted with: an on-prem cluster with MetalLB, so migrations are
/// planned, and an allowlist.
pub const CONFIG: &str = "profile: on-prem\nload-balancer: metallb\nkubernetes-version: \"1.36\"\nexternal-ips:\n  allow: [192.0.2.0/24, 2001:db8::/32]\n";

/// Kinds a fix may add (the pool a migration asks for).
const POOLS: &[&str] = &["IPAddressPool", "CiliumLoadBalancerIPPool"];

/// Paths below an object that a fix may change.
fn may_change(path: &str) -> bool {
    [
        "/spec/type",
        "/spec/externalIPs",
        "/spec/loadBalancerIP",
        "/metadata/annotations",
    ]
    .iter()
    .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

/// Each object the reader reads from `text`, keyed by kind, namespace and name (the first of
/// repeats), as JSON.
fn objects(text: &str) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    let mut add = |v: serde_json::Value| {
        let key = format!(
            "{}/{}/{}",
            v["kind"].as_str().unwrap_or(""),
            v["metadata"]["namespace"].as_str().unwrap_or(""),
            v["metadata"]["name"].as_str().unwrap_or("")
        );
        out.entry(key).or_insert(v);
    };
    let (docs, _) = yaml::parse(text, BuildLimits { max_depth: 256 });
    for d in docs {
        let Ok(v) = yaml::decode::decode::<serde_json::Value>(&d.tree, d.root, 1_000_000) else {
            continue;
        };
        let v = v.value;
        // kubectl reads any object with `items` as a list, whatever its kind.
        if v.get("kind").is_some() && v.get("items").is_some() {
            for item in v["items"].as_array().into_iter().flatten() {
                add(item.clone());
            }
        } else if v.get("kind").is_some() {
            add(v);
        }
    }
    out
}

/// The paths (JSON pointers) where two values differ.
fn differences(old: &serde_json::Value, new: &serde_json::Value, at: &str, out: &mut Vec<String>) {
    use serde_json::Value;
    let escape = |key: &str| key.replace('~', "~0").replace('/', "~1");
    match (old, new) {
        (Value::Object(before), Value::Object(after)) => {
            for (key, value) in before {
                let here = format!("{at}/{}", escape(key));
                match after.get(key) {
                    Some(other) => differences(value, other, &here, out),
                    None => out.push(here),
                }
            }
            for key in after.keys().filter(|key| !before.contains_key(*key)) {
                out.push(format!("{at}/{}", escape(key)));
            }
        }
        _ if old == new => {}
        _ => out.push(at.to_string()),
    }
}

fn lint(dir: &Path, file: &Path) -> extip_lint::Report {
    let (mut settings, _) = config::load(
        Some(&dir.join(".extip-lint.yaml")),
        &Overrides::default(),
        &extip_lint::rules::CATALOG,
    )
    .expect("the oracle's config loads");
    settings.paths = vec![file.to_path_buf()];
    extip_lint::lint(&settings, None)
}

fn count(report: &extip_lint::Report, codes: &[&str]) -> usize {
    report
        .findings
        .iter()
        .filter(|f| codes.contains(&f.rule.code))
        .count()
}

/// Lints `manifest` as `name` in a fresh folder, applies every fix and checks the invariants
/// above. Returns how many fixes were applied, or what broke.
pub fn check(manifest: &[u8], name: &str) -> Result<usize, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::fs::write(dir.path().join(".extip-lint.yaml"), CONFIG).map_err(|e| e.to_string())?;
    let file = dir.path().join(name);
    std::fs::write(&file, manifest).map_err(|e| e.to_string())?;
    let report = lint(dir.path(), &file);
    let limits = BuildLimits { max_depth: 256 };
    let fixed = extip_lint::verdict::fix::apply(&report.findings, &report.files, true, limits);
    let Some(f) = fixed.first() else {
        return Ok(0);
    };
    let source = &report.files[f.file.0 as usize];
    let new = extip_lint::verdict::fix::bytes::splice(source, manifest, &f.edits)
        .map_err(|e| format!("the fix cannot be stored: {e}"))?;

    // 1. Bytes outside the edits.
    let mut edits: Vec<_> = f.edits.iter().collect();
    edits.sort_by_key(|e| e.span.start);
    let (mut old_at, mut new_at) = (0, 0);
    for e in &edits {
        let (start, end) = (
            source.stored_offset(e.span.start),
            source.stored_offset(e.span.end),
        );
        let kept = &manifest[old_at..start];
        if new.get(new_at..new_at + kept.len()) != Some(kept) {
            return Err(format!("bytes before offset {start} changed"));
        }
        let written = match source.encoding {
            extip_lint::source::Encoding::Utf16Le | extip_lint::source::Encoding::Utf16Be => {
                e.text.encode_utf16().count() * 2
            }
            _ => e.text.len(),
        };
        new_at += kept.len() + written;
        old_at = end;
    }
    if new.get(new_at..) != Some(&manifest[old_at..]) {
        return Err("bytes after the last edit changed".into());
    }

    std::fs::write(&file, &new).map_err(|e| e.to_string())?;
    let again = lint(dir.path(), &file);

    // 2. Nothing new that does not read.
    for codes in [&["EXT900"][..], &["EXT902"]] {
        if count(&again, codes) > count(&report, codes) {
            return Err(format!("the fixed file has a new {}", codes[0]));
        }
    }

    // 3 and 4. Objects: the same ones, pools added; changes only where fixes change Services.
    let text = |b: &[u8]| extip_lint::source::decode_text(b.to_vec()).text;
    let before = objects(&text(manifest));
    let after = objects(&text(&new));
    let fixed_objects: Vec<String> = f
        .findings
        .iter()
        .filter_map(|&i| report.findings[i].object.as_ref())
        .map(|o| {
            format!(
                "{}/{}/{}",
                o.kind,
                o.namespace.as_deref().unwrap_or(""),
                o.name
            )
        })
        .collect();
    for (key, old) in &before {
        let Some(now) = after.get(key) else {
            return Err(format!("`{key}` is no longer read"));
        };
        let mut changed = Vec::new();
        differences(old, now, "", &mut changed);
        // Namespaces defaulted from the config are not in the manifest: match by name too.
        let fixed_here = fixed_objects.iter().any(|o| {
            o == key || {
                let (k, rest) = key.split_once('/').unwrap_or_default();
                let name = rest.rsplit('/').next().unwrap_or("");
                o.starts_with(&format!("{k}/")) && o.ends_with(&format!("/{name}"))
            }
        });
        if fixed_here {
            if let Some(p) = changed.iter().find(|p| !may_change(p)) {
                return Err(format!("`{key}` changed at `{p}`, which no fix changes"));
            }
        } else if let Some(p) = changed.first() {
            return Err(format!("`{key}`, which no fix was for, changed at `{p}`"));
        }
    }
    for key in after.keys().filter(|k| !before.contains_key(*k)) {
        if !POOLS.iter().any(|p| key.starts_with(&format!("{p}/"))) {
            return Err(format!("the fix added `{key}`"));
        }
    }

    // 5. What was fixed is not fixed again.
    let fixed_prints: Vec<String> = f
        .findings
        .iter()
        .map(|&i| report.findings[i].fingerprint(name))
        .collect();
    let second = extip_lint::verdict::fix::apply(&again.findings, &again.files, true, limits);
    for g in &second {
        for &i in &g.findings {
            if fixed_prints.contains(&again.findings[i].fingerprint(name)) {
                return Err(format!(
                    "the second run fixes `{}` again",
                    again.findings[i].rule.code
                ));
            }
        }
    }
    Ok(f.applied)
}
