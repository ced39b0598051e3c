//! Filter stage: what was there before. `--diff-base` lints the paths as they are at a git
//! revision and `--baseline` reads accepted findings from a file; either way a finding whose
//! fingerprint was there before is left out (and counted), and the claims that were there make
//! EXT005 tell the older claim from the newer.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::finding::Finding;
use crate::object::claims::History;
use crate::source::SourceFile;

/// What was there before.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Where, as a phrase: ``at `HEAD` ``, ``in the baseline `b.json` ``, or both joined.
    pub label: String,
    pub fingerprints: HashSet<String>,
    /// The older claims, for EXT005.
    pub history: History,
    /// The baseline's entries, to report those that match nothing any more.
    pub baseline: Vec<Entry>,
}

/// One accepted finding in a baseline file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entry {
    pub fingerprint: String,
    pub rule: String,
    /// `Service/shop/web` (with `cluster:` in front for a cluster other than `default`), or
    /// `file:NAME` for a finding about no object.
    pub identity: String,
    /// The field (`/spec/externalIPs/0`); empty for a finding about no object.
    pub path: String,
    /// Where it was, for people reviewing the file.
    pub file: String,
    pub message: String,
}

/// A baseline file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    version: u32,
    findings: Vec<Entry>,
}

const BASELINE_VERSION: u32 = 1;

impl Known {
    /// What a base run found: its unsuppressed findings and its claims.
    #[must_use]
    pub fn from_run(label: String, fingerprints: HashSet<String>, claims: HashSet<String>) -> Self {
        Known {
            history: History {
                label: Some(label.clone()),
                keys: claims,
            },
            label,
            fingerprints,
            baseline: Vec::new(),
        }
    }

    /// Reads a baseline written by `--write-baseline`.
    pub fn read_baseline(path: &Path) -> Result<Self, Error> {
        let name = path.display().to_string();
        let text = crate::source::read_regular_text(path, crate::source::DEFAULT_MAX_FILE_SIZE)
            .map_err(|u| Error::unread(name.clone(), u.into_cause()))?;
        let file: BaselineFile = serde_json::from_str(&text)
            .map_err(|e| Error::Usage(format!("--baseline: `{name}` is not a baseline: {e}")))?;
        if file.version != BASELINE_VERSION {
            return Err(Error::Usage(format!(
                "--baseline: `{name}` is baseline version {}, this extip-lint reads version {BASELINE_VERSION}",
                file.version
            )));
        }
        let label = format!("in the baseline `{name}`");
        Ok(Known {
            fingerprints: file
                .findings
                .iter()
                .map(|e| e.fingerprint.clone())
                .collect(),
            history: History {
                label: Some(label.clone()),
                keys: file
                    .findings
                    .iter()
                    .filter(|e| e.rule == "EXT005")
                    .map(|e| crate::object::claims::claim_key(&e.identity, &e.path))
                    .collect(),
            },
            label,
            baseline: file.findings,
        })
    }

    /// Both: a finding or claim known to either is known.
    #[must_use]
    pub fn merge(mut self, other: Known) -> Known {
        self.label = format!("{} or {}", self.label, other.label);
        self.fingerprints.extend(other.fingerprints);
        self.history.keys.extend(other.history.keys);
        self.history.label = Some(self.label.clone());
        self.baseline.extend(other.baseline);
        self
    }
}

/// What filtering left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filtered {
    /// Where the known findings came from.
    pub label: String,
    /// Findings that were there before, left out.
    pub left_out: usize,
    /// Baseline entries that match no finding any more.
    pub stale: usize,
}

/// Leaves out the findings `known` holds. Suppressed findings stay (they are shown as
/// suppressed); a baseline entry matched by any finding, suppressed or not, is not stale.
pub fn filter(findings: &mut Vec<Finding>, files: &[SourceFile], known: &Known) -> Filtered {
    let mut seen = HashSet::new();
    let before = findings.len();
    findings.retain(|f| {
        let fp = f.fingerprint(&files[f.primary.span.file].name);
        let was = known.fingerprints.contains(&fp);
        seen.insert(fp);
        !was || f.suppressed.is_some()
    });
    Filtered {
        label: known.label.clone(),
        left_out: before - findings.len(),
        stale: known
            .baseline
            .iter()
            .filter(|e| !seen.contains(&e.fingerprint))
            .count(),
    }
}

/// The baseline file of `findings` (unsuppressed ones), sorted by fingerprint.
#[must_use]
pub fn baseline<'a>(findings: impl Iterator<Item = &'a Finding>, files: &[SourceFile]) -> String {
    let mut entries: Vec<Entry> = findings
        .filter(|f| f.suppressed.is_none())
        .map(|f| {
            let file = &files[f.primary.span.file].name;
            Entry {
                fingerprint: f.fingerprint(file),
                rule: f.rule.code.to_string(),
                identity: crate::finding::identity(f.cluster.as_deref(), f.object.as_deref(), file),
                path: if f.object.is_some() {
                    f.pointer.clone()
                } else {
                    String::new()
                },
                file: file.clone(),
                message: f.message.text().to_string(),
            }
        })
        .collect();
    entries.sort();
    entries.dedup_by(|a, b| a.fingerprint == b.fingerprint);
    let mut text = serde_json::to_string_pretty(&BaselineFile {
        version: BASELINE_VERSION,
        findings: entries,
    })
    .unwrap_or_default();
    text.push('\n');
    text
}
