//! Fix stage: the changes rules plan on the nodes they know -> text edits that keep everything
//! else of the file as it is (comments, key order, quoting, indentation, line ends), checked as
//! a transaction: a fix is kept only if the edited file reads back exactly as the fix means
//! (`check`). Then the fixed texts for `--diff` and `--fix`, and their bytes as stored
//! (`bytes`). Files on disk only: never rendered output or standard input.

pub mod bytes;
mod check;
mod edit;

use std::collections::BTreeMap;

use check::Original;

use crate::finding::{Change, Edit, Finding, Safety};
use crate::source::{FileId, SourceFile};
use crate::yaml::BuildLimits;

/// Turns every fix's changes into edits, and keeps a fix only if the file, with its edits made,
/// reads back exactly as the fix means it to (`check`); otherwise `refused` says why.
pub fn plan(findings: &mut [Finding], files: &[SourceFile], limits: BuildLimits) {
    let mut originals: BTreeMap<FileId, Original> = BTreeMap::new();
    for f in findings {
        let file = &files[f.primary.span.file];
        for fix in &mut f.fixes {
            if fix.refused.is_some() {
                continue;
            }
            if let Err(why) = plan_one(fix, file, files, limits, &mut originals) {
                fix.refused = Some(why);
                fix.edits.clear();
            }
        }
    }
}

fn plan_one(
    fix: &mut crate::finding::Fix,
    file: &SourceFile,
    files: &[SourceFile],
    limits: BuildLimits,
    originals: &mut BTreeMap<FileId, Original>,
) -> Result<(), String> {
    if file.virtual_file || file.path.is_none() {
        return Err("the file is rendered output or standard input".into());
    }
    let json = is_json(&file.text);
    let mut edits = Vec::new();
    for change in &fix.changes {
        edits.extend(edit::edit(change, files, json)?);
    }
    if edits.iter().any(|e| e.span.file != file.id) {
        return Err("its edits reach into another file".into());
    }
    if overlapping(&edits) {
        return Err("its edits overlap".into());
    }
    let original = originals
        .entry(file.id)
        .or_insert_with(|| Original::read(&file.text, limits));
    let changes: Vec<&Change> = fix.changes.iter().collect();
    original.verify(&edited(&file.text, &edits), &edits, &changes, limits)?;
    fix.edits = edits;
    Ok(())
}

/// Whether kubectl reads `text` as a JSON stream (then edits are JSON).
fn is_json(text: &str) -> bool {
    crate::yaml::reader::looks_like_json(text)
        && matches!(
            crate::yaml::cut(text, BuildLimits { max_depth: 256 }),
            crate::yaml::Cut::Json(_)
        )
}

/// `text` with `edits` made (they do not overlap). Of two insertions at one place, the one
/// listed first comes first.
fn edited(text: &str, edits: &[Edit]) -> String {
    let mut order: Vec<(usize, &Edit)> = edits.iter().enumerate().collect();
    order.sort_by_key(|(i, e)| (e.span.start, e.span.end, *i));
    let mut out = String::with_capacity(text.len() + 256);
    let mut at = 0;
    for (_, e) in order {
        out.push_str(&text[at..e.span.start]);
        out.push_str(&e.text);
        at = e.span.end;
    }
    out.push_str(&text[at..]);
    out
}

fn overlapping(edits: &[Edit]) -> bool {
    edits.iter().enumerate().any(|(i, a)| {
        edits[i + 1..].iter().any(|b| {
            a.span.file == b.span.file && a.span.start < b.span.end && b.span.start < a.span.end
        })
    })
}

/// What `--fix` and `--diff` do to one file.
#[derive(Debug, Clone)]
pub struct Fixed {
    pub file: FileId,
    /// The edits of every fix applied, in no particular order; they do not overlap.
    pub edits: Vec<Edit>,
    /// The fixed text.
    pub text: String,
    /// How many fixes went in.
    pub applied: usize,
    /// The findings (indices into the findings given) whose fixes went in.
    pub findings: Vec<usize>,
    /// Fixes left out because, made together with the ones before them, the file would not
    /// read back as they all mean.
    pub clashed: usize,
}

/// The fixed files: in each file, the fixes of the allowed safety (unsafe ones only with
/// `unsafe_too`), in finding order, each whole or not at all, kept only if the file with all
/// of them made reads back exactly as they mean (`check`).
#[must_use]
pub fn apply(
    findings: &[Finding],
    files: &[SourceFile],
    unsafe_too: bool,
    limits: BuildLimits,
) -> Vec<Fixed> {
    let mut by_file: BTreeMap<FileId, Vec<(usize, &crate::finding::Fix)>> = BTreeMap::new();
    for (i, f) in findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.suppressed.is_none())
    {
        if let Some(fix) = f.fixes.iter().find(|x| {
            x.refused.is_none() && !x.edits.is_empty() && (x.safety == Safety::Safe || unsafe_too)
        }) {
            by_file
                .entry(f.primary.span.file)
                .or_default()
                .push((i, fix));
        }
    }
    let mut out = Vec::new();
    for (file, fixes) in by_file {
        let text = &files[file].text;
        let original = Original::read(text, limits);
        let mut edits: Vec<Edit> = Vec::new();
        let mut changes: Vec<&Change> = Vec::new();
        let (mut applied, mut clashed) = (0, 0);
        let mut fixed_findings = Vec::new();
        for (finding, fix) in fixes {
            let overlaps = fix.edits.iter().any(|e| {
                edits.iter().any(|a| {
                    a.span.start < e.span.end && e.span.start < a.span.end
                        || (a.span == e.span && a.text == e.text)
                })
            });
            let mut more_edits = edits.clone();
            more_edits.extend(fix.edits.iter().cloned());
            let mut more_changes = changes.clone();
            more_changes.extend(fix.changes.iter());
            let fits = !overlaps
                && original
                    .verify(
                        &edited(text, &more_edits),
                        &more_edits,
                        &more_changes,
                        limits,
                    )
                    .is_ok();
            if fits {
                edits = more_edits;
                changes = more_changes;
                applied += 1;
                fixed_findings.push(finding);
            } else {
                clashed += 1;
            }
        }
        if applied > 0 {
            out.push(Fixed {
                file,
                text: edited(text, &edits),
                edits,
                applied,
                findings: fixed_findings,
                clashed,
            });
        }
    }
    out
}
