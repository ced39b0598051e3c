//! Report stage: what the run read, the kept and suppressed findings in a deterministic order,
//! per-file caps, and the counts the summary shows. Renderers read only a `Report`.

pub mod inventory;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cluster::profile::{KubernetesDecision, ProfileDecision};
use crate::error::Error;
use crate::finding::{Finding, Message, RuleMeta, Severity};
use crate::input::walk::Walked;
use crate::object::load::Loaded;
use crate::object::{IgnoreAnnotation, Object, Problem};
use crate::source::{Encoding, FileId, SourceFile, display_name};
use crate::verdict::known::Filtered;

/// Counts for the summary.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub files: usize,
    pub documents: usize,
    pub objects_by_kind: BTreeMap<String, usize>,
    /// Documents that are not Kubernetes objects (values files, CI workflows, ...).
    pub other_documents: usize,
    /// Files not read, by reason.
    pub skipped: BTreeMap<String, usize>,
    /// Files read only as context (`--context`), not reported on.
    pub context_files: usize,
    /// Findings left out because a file exceeded `max-findings-per-file`, by file.
    pub truncated: BTreeMap<FileId, usize>,
    /// The most severe unsuppressed finding left out: it still decides the exit code.
    pub truncated_severity: Option<Severity>,
    /// Files that held a Kubernetes object or a broken one: manifests, which a report must
    /// never be written over.
    pub manifests: std::collections::BTreeSet<FileId>,
    /// Objects of namespaced kinds that set no namespace, by the namespace they were placed in.
    pub namespace_defaulted: BTreeMap<String, usize>,
    /// `--render`: the charts and kustomization roots that could not be rendered offline (a
    /// remote dependency or resource), by folder, with why: nothing they render was checked.
    pub unrendered: Vec<(String, String)>,
}

impl Stats {
    #[must_use]
    pub fn objects(&self) -> usize {
        self.objects_by_kind.values().sum()
    }
}

/// Everything a renderer needs.
#[derive(Debug)]
pub struct Report {
    pub files: Vec<SourceFile>,
    /// Sorted by file and position; suppressed findings are kept and marked.
    pub findings: Vec<Finding>,
    /// Messages about the run (skipped charts, limits hit, bytes kubectl does not read); not
    /// findings.
    pub notices: Vec<Message>,
    /// Run errors (missing paths, unreadable files): exit code 2.
    pub errors: Vec<Error>,
    pub stats: Stats,
    /// The clusters linted, by name, each with its profile decision.
    pub clusters: Vec<ClusterSummary>,
    /// The rules that ran, with their effective severity.
    pub rules: Vec<(&'static RuleMeta, Severity)>,
    /// The address inventory, when asked for (`--inventory`).
    pub inventory: Vec<inventory::Row>,
    /// What `--diff-base` or `--baseline` left out.
    pub filtered: Option<Filtered>,
    /// `Claim::key` of every claim that takes effect (what a later run's EXT005 calls older).
    pub claim_keys: Vec<String>,
}

impl Report {
    /// Whether the run had more than one cluster (then every finding names its cluster).
    #[must_use]
    pub fn multi_cluster(&self) -> bool {
        self.clusters.len() > 1
    }

    /// The profile decision of the first cluster (the only one, unless clusters are set up).
    #[must_use]
    pub fn profile(&self) -> Option<&ProfileDecision> {
        self.clusters.first().map(|c| &c.profile)
    }
}

/// What the walk and the read stage produced, gathered in input order.
#[derive(Debug, Default)]
pub struct Inputs {
    pub files: Vec<SourceFile>,
    pub objects: Vec<Object>,
    pub problems: Vec<Problem>,
    pub ignores: Vec<IgnoreAnnotation>,
    pub stats: Stats,
    pub notices: Vec<Message>,
    pub errors: Vec<Error>,
    /// Files with an id below this are reported on; the others are context (the config file,
    /// added last, is reported on too).
    reported: usize,
    config: Option<FileId>,
    /// Files from this id on are the sources rendered objects were mapped to: reported on.
    sources_from: Option<usize>,
}

impl Inputs {
    /// Gathers the walk and what each input produced. Context inputs contribute objects only.
    #[must_use]
    pub fn gather(walked: Walked, loaded: Vec<Loaded>) -> Self {
        let mut out = Inputs {
            files: Vec::with_capacity(loaded.len() + 1),
            stats: Stats {
                skipped: walked.skipped,
                unrendered: walked.unrendered.clone(),
                ..Stats::default()
            },
            notices: walked.notices.into_iter().map(Message::from).collect(),
            errors: walked.errors,
            reported: walked.reported,
            ..Inputs::default()
        };
        // Every object is kept for the whole run: moved here without a copy when one file has
        // them all.
        let mut objects = Vec::with_capacity(loaded.len());
        for (i, l) in loaded.into_iter().enumerate() {
            if !l.objects.is_empty() || !l.problems.is_empty() {
                out.stats.manifests.insert(l.source.id);
            }
            out.files.push(l.source);
            if i >= walked.reported {
                out.stats.context_files += 1;
                objects.push(l.objects);
                continue;
            }
            out.stats.files += 1;
            out.stats.documents += l.documents;
            out.stats.other_documents += l.other_documents;
            for o in &l.objects {
                *out.stats
                    .objects_by_kind
                    .entry(o.id.kind.clone())
                    .or_default() += 1;
                if o.namespace_defaulted
                    && let Some(ns) = &o.id.namespace
                {
                    *out.stats.namespace_defaulted.entry(ns.clone()).or_default() += 1;
                }
            }
            objects.push(l.objects);
            out.problems.extend(l.problems);
            out.ignores.extend(l.ignores);
            out.notices.extend(l.notices);
            out.errors.extend(l.error);
        }
        out.objects = crate::object::load::concat(objects);
        out
    }

    /// Adds the config file, so findings and messages can point into it; returns its id.
    pub fn add_config(&mut self, path: &std::path::Path, text: &str) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(SourceFile::new(
            id,
            display_name(path),
            Some(path.to_path_buf()),
            Arc::from(text),
            Encoding::Utf8,
        ));
        self.config = Some(id);
        id
    }

    /// Takes an object rejected after loading out of the counts.
    pub fn uncount(&mut self, object: &Object) {
        if !self.is_reported(object.file) {
            return;
        }
        if let Some(n) = self.stats.objects_by_kind.get_mut(&object.id.kind) {
            *n -= 1;
            if *n == 0 {
                self.stats.objects_by_kind.remove(&object.id.kind);
            }
        }
    }

    fn is_reported(&self, file: FileId) -> bool {
        (file.index()) < self.reported
            || Some(file) == self.config
            || self.sources_from.is_some_and(|s| file.index() >= s)
    }

    /// Marks the files added from now on as sources of rendered objects (reported on).
    pub fn sources_start_here(&mut self) {
        self.sources_from = Some(self.files.len());
    }
}

/// One cluster of a run.
#[derive(Debug, Clone)]
pub struct ClusterSummary {
    pub name: Arc<str>,
    pub profile: ProfileDecision,
    pub kubernetes: KubernetesDecision,
    pub lb: crate::cluster::lb::LbDecision,
    /// Files (and standard input) in the cluster.
    pub files: usize,
}

/// The parts of a report besides the inputs.
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub clusters: Vec<ClusterSummary>,
    pub rules: Vec<(&'static RuleMeta, Severity)>,
    pub inventory: Vec<inventory::Row>,
    pub max_findings_per_file: usize,
    pub filtered: Option<Filtered>,
    pub claim_keys: Vec<String>,
}

/// Builds the report: findings on context files are dropped, the rest sorted by file name and
/// position (so the order of the paths given does not change the output) and capped per file.
#[must_use]
pub fn assemble(inputs: Inputs, outcome: Outcome) -> Report {
    let mut findings = outcome.findings;
    findings.retain(|f| inputs.is_reported(f.primary.span.file));
    let files = inputs.files;
    findings.sort_by(|a, b| {
        let name = |f: &Finding| files[f.primary.span.file].name.as_str();
        (name(a), a.sort_key()).cmp(&(name(b), b.sort_key()))
    });
    let mut stats = inputs.stats;
    let mut notices = inputs.notices;
    let findings = cap_per_file(
        findings,
        outcome.max_findings_per_file,
        &mut stats,
        &files,
        &mut notices,
    );
    Report {
        files,
        findings,
        notices,
        errors: inputs.errors,
        stats,
        clusters: outcome.clusters,
        rules: outcome.rules,
        inventory: outcome.inventory,
        filtered: outcome.filtered,
        claim_keys: outcome.claim_keys,
    }
}

/// Keeps at most `max` unsuppressed findings per file, and at most `max` suppressed ones, so
/// suppressed findings never crowd out real ones; the rest are counted and noticed, and the most
/// severe of those left out is remembered for the exit code.
fn cap_per_file(
    findings: Vec<Finding>,
    max: usize,
    stats: &mut Stats,
    files: &[SourceFile],
    notices: &mut Vec<Message>,
) -> Vec<Finding> {
    let mut per_file: BTreeMap<(FileId, bool), usize> = BTreeMap::new();
    let mut kept = Vec::with_capacity(findings.len().min(max.saturating_mul(files.len()) + 1));
    for f in findings {
        let suppressed = f.suppressed.is_some();
        let n = per_file
            .entry((f.primary.span.file, suppressed))
            .or_default();
        *n += 1;
        if *n > max {
            *stats.truncated.entry(f.primary.span.file).or_default() += 1;
            if !suppressed {
                stats.truncated_severity = stats.truncated_severity.max(Some(f.severity));
            }
        } else {
            kept.push(f);
        }
    }
    for (file, n) in &stats.truncated {
        notices.push(Message::from(format!(
            "{}: {n} more finding{} not shown (limit `max-findings-per-file` = {max})",
            files[*file].name,
            if *n == 1 { "" } else { "s" }
        )));
    }
    kept
}
