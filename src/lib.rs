//! extip-lint: a static linter for Kubernetes Service externalIPs and `NetworkPolicy` coverage.
//!
//! The pipeline runs one way: walk -> load (parse, classify) -> index -> profile -> rules
//! (check) -> suppress (filter) -> report -> render. `lint` conducts the stages up to the
//! report; each stage is its own module and gets only the options it needs. STYLE.md lists the
//! layers, and `tests/layers.rs` keeps every import pointing down them.

#![forbid(unsafe_code)]

pub mod address;
pub mod cli;
pub mod config;
pub mod error;
pub mod finding;
pub mod index;
pub mod inventory;
pub mod load;
pub mod object;
pub mod policy;
pub mod profile;
pub mod render;
pub mod report;
pub mod rules;
pub mod selector;
pub mod source;
pub mod suppress;
pub mod walk;
pub mod yaml;

use std::time::Instant;

pub use load::Progress;
pub use report::{Report, Stats};

use crate::config::{Settings, ValueSource};
use crate::load::LoadOptions;
use crate::object::ClassifyOptions;
use crate::report::{Inputs, Outcome};
use crate::rules::{EXT901, Enabled, RuleContext};
use crate::walk::WalkOptions;

/// Lints the inputs named in `settings`; `stdin` holds standard input when `-` is among them.
#[must_use]
pub fn lint(settings: &Settings, stdin: Option<Vec<u8>>) -> Report {
    lint_with_progress(settings, stdin, None)
}

/// `lint`, counting files and bytes read into `progress`.
#[must_use]
pub fn lint_with_progress(
    settings: &Settings,
    stdin: Option<Vec<u8>>,
    progress: Option<&Progress>,
) -> Report {
    let started = Instant::now();
    let walked =
        walk::walk_with_context(&walk_options(settings), &settings.paths, &settings.context);
    let loaded = load::load_all(&walked.inputs, stdin, &load_options(settings), progress);
    let mut inputs = Inputs::gather(walked, loaded);
    let config_file = settings
        .config
        .as_ref()
        .map(|c| inputs.add_config(&c.path, &c.text));

    let index = index::build(&inputs.objects);
    let (requested, source) = &settings.profile;
    let set_by = (*source != ValueSource::Default).then(|| source.message(config_file));
    let profile = profile::decide(*requested, set_by, index.cloud_evidence());
    let enabled = enabled(settings);
    let cx = RuleContext {
        objects: &inputs.objects,
        index: &index,
        problems: &inputs.problems,
        profile: &profile,
        allow: &settings.allow,
        config_file,
        enabled: &enabled,
    };
    let mut findings = rules::check(&cx);
    suppress::apply(
        &inputs.files,
        &inputs.ignores,
        &mut findings,
        enabled.severity(&EXT901),
        &enabled,
    );
    let inventory = if settings.inventory {
        inventory::rows(
            &inputs.objects,
            &index,
            &settings.allow,
            &settings.owner_keys,
            &profile,
        )
    } else {
        Vec::new()
    };
    drop(index);
    report::assemble(
        inputs,
        Outcome {
            findings,
            profile,
            rules: enabled.as_slice().to_vec(),
            inventory,
            max_findings_per_file: settings.limits.max_findings_per_file,
            elapsed: started.elapsed(),
        },
    )
}

fn walk_options(settings: &Settings) -> WalkOptions {
    WalkOptions {
        no_ignore: settings.no_ignore,
        include: settings.include.clone(),
        exclude: settings.exclude.clone(),
        glob_base: settings.glob_base.clone(),
        stdin_filename: settings.stdin_filename.clone(),
    }
}

fn load_options(settings: &Settings) -> LoadOptions {
    LoadOptions {
        max_file_size: settings.limits.max_file_size,
        build: settings.limits.build(),
        classify: ClassifyOptions {
            default_namespace: settings.namespace.0.clone(),
            alias_budget: settings.limits.max_alias_expansion,
        },
    }
}

/// The rules that run, at their configured severity, in code order.
fn enabled(settings: &Settings) -> Enabled {
    Enabled::new(
        settings
            .catalog
            .iter()
            .filter_map(|m| Some((*m, settings.rules.get(m.code).and_then(|(s, _)| *s)?)))
            .collect(),
    )
}
