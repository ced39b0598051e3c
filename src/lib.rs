//! extip-lint: a static linter for Kubernetes Service externalIPs and `NetworkPolicy` coverage.
//!
//! The pipeline runs one way: walk (and render) -> cluster assignment -> load (parse, classify)
//! -> check, per cluster (facts, rules, inventory) -> map to sources, plan fixes, suppress,
//! leave out what is known -> report; renderers then write it. `lint` conducts the stages up to
//! the report; each stage is its own module and gets only the options `plan` gives it.
//! CONTRIBUTING.md's layer table lists the layers, and `tests/layers.rs` keeps every import
//! pointing down them.

#![forbid(unsafe_code)]

pub mod admission;
pub mod baseline;
pub mod check;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod error;
pub mod finding;
pub mod input;
pub mod k8s;
pub mod object;
pub mod plan;
pub mod progress;
pub mod render;
pub mod report;
pub mod rules;
pub mod server;
pub mod source;
pub mod verdict;
pub mod yaml;

pub use baseline::known_at;
pub use progress::{Phase, Progress};
pub use report::{Report, Stats};

use crate::cluster::assign::Split;
use crate::config::Settings;
use crate::input::{expand, walk};
use crate::object::Problem;
use crate::object::load;
use crate::object::load::LoadOptions;
use crate::report::{Inputs, Outcome};
use crate::rules::EXT901;
use crate::verdict::known::Known;
use crate::verdict::srcmap;

/// Lints the inputs named in `settings`; `stdin` holds standard input when `-` is among them.
#[must_use]
pub fn lint(settings: &Settings, stdin: Option<Vec<u8>>) -> Report {
    lint_against(settings, stdin, None, None)
}

/// `lint`, counting files and bytes read into `progress`, and leaving out what `known` holds (`--diff-base`, `--baseline`): the
/// findings that were there before are counted, not reported, and EXT005 knows which claims are
/// older.
#[must_use]
pub fn lint_against(
    settings: &Settings,
    stdin: Option<Vec<u8>>,
    progress: Option<&Progress>,
    known: Option<&Known>,
) -> Report {
    let mut walked = walk::walk_with_context(
        &plan::walk_options(settings),
        &settings.paths,
        &settings.context,
    );
    if settings.render.enabled {
        expand::render_all(&mut walked, &plan::render_options(settings), progress);
    }
    run(settings, walked, stdin, progress, known)
}

/// The stages after the walk, for `lint_against`, `--diff-base` and the language server.
pub(crate) fn run(
    settings: &Settings,
    mut walked: walk::Walked,
    stdin: Option<Vec<u8>>,
    progress: Option<&Progress>,
    known: Option<&Known>,
) -> Report {
    cluster::assign::in_stable_order(&mut walked);
    let no_history = object::claims::History::default();
    let history = known.map_or(&no_history, |k| &k.history);
    let split = if settings.cluster_per_path {
        Split::PerPath {
            paths: &settings.paths,
        }
    } else {
        Split::Config {
            clusters: &settings.clusters,
            base: &settings.glob_base,
        }
    };
    let assignment = cluster::assign::assign(split, &walked.inputs);
    let plans: Vec<plan::Plan<'_>> = assignment
        .clusters
        .iter()
        .map(|(name, config)| {
            plan::Plan::new(settings, name, config.map(|i| &settings.clusters[i]))
        })
        .collect();
    // A rendered chart or release places the objects that name no namespace where it is
    // installed, whatever the cluster's default.
    let placed: Vec<Option<LoadOptions>> = walked
        .inputs
        .iter()
        .zip(&assignment.of_input)
        .map(|(input, &c)| match input {
            walk::Input::Rendered(r) => r.namespace.as_ref().map(|ns| {
                let mut o = plans[c].load.clone();
                o.classify.default_namespace.clone_from(ns);
                o
            }),
            _ => None,
        })
        .collect();
    let per_input: Vec<&LoadOptions> = assignment
        .of_input
        .iter()
        .zip(&placed)
        .map(|(&c, own)| own.as_ref().unwrap_or(&plans[c].load))
        .collect();
    let loaded = load::load_all(&walked.inputs, stdin, &per_input, progress);
    let mut inputs = Inputs::gather(walked, loaded);
    let config_file = settings
        .config
        .as_ref()
        .map(|c| inputs.add_config(&c.path, &c.text));
    let enabled = plan::enabled(settings);

    // Each cluster is checked on its own: its objects, index, profile and conflicts.
    let mut objects = cluster::assign::per_cluster(
        std::mem::take(&mut inputs.objects),
        plans.len(),
        &assignment.of_input,
    );
    let mut problems: Vec<Vec<Problem>> = plans.iter().map(|_| Vec::new()).collect();
    for p in std::mem::take(&mut inputs.problems) {
        problems[assignment.of_input[p.span.file.index()]].push(p);
    }
    // Custom resources of a version their cluster's CRDs do not serve: kubectl fails them.
    for (objects, problems) in objects.iter_mut().zip(&mut problems) {
        for rejected in cluster::crd::reject_unserved(objects, problems) {
            inputs.uncount(&rejected);
        }
    }
    let run = check::Run {
        settings,
        files_per_cluster: plans
            .iter()
            .map(|plan| {
                let of = &assignment.of_input;
                of.iter()
                    .filter(|&&c| assignment.clusters[c].0 == plan.name)
                    .count()
            })
            .collect(),
        plans: &plans,
        files: &inputs.files,
        config_file,
        enabled: &enabled,
        history,
    };
    let checked = check::check(&run, &objects, &problems, progress);
    let check::Checked {
        mut findings,
        claim_keys,
        inventory,
        clusters,
    } = checked;
    // Findings about rendered objects point at their template or patch.
    inputs.sources_start_here();
    srcmap::map(&mut findings, &mut inputs.files);
    verdict::fix::plan(&mut findings, &inputs.files, settings.limits.build());
    verdict::suppress::apply(
        &inputs.files,
        &inputs.ignores,
        &mut findings,
        enabled.severity(EXT901),
        &enabled,
    );
    let filtered = known.map(|k| verdict::known::filter(&mut findings, &inputs.files, k));
    report::assemble(
        inputs,
        Outcome {
            findings,
            clusters,
            rules: enabled.as_slice().to_vec(),
            inventory,
            max_findings_per_file: settings.limits.max_findings_per_file,
            filtered,
            claim_keys,
        },
    )
}
