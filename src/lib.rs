//! extip-lint: a static linter for Kubernetes Service externalIPs and `NetworkPolicy` coverage.
//!
//! The pipeline runs one way: walk -> cluster assignment -> load (parse, classify) -> per
//! cluster: index -> profile -> rules (check) -> suppress (filter) -> report -> render. `lint` conducts the stages up to the
//! report; each stage is its own module and gets only the options it needs. STYLE.md lists the
//! layers, and `tests/layers.rs` keeps every import pointing down them.

#![forbid(unsafe_code)]

pub mod address;
pub mod admission;
pub mod calico;
pub mod chart;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod crd;
pub mod error;
pub mod expand;
pub mod finding;
pub mod fix;
pub mod git;
pub mod gitops;
pub mod implementation;
pub mod index;
pub mod inventory;
pub mod known;
pub mod kubernetes;
pub mod kustomize;
pub mod lb;
pub mod load;
pub mod object;
pub mod policy;
pub mod profile;
pub mod progress;
pub mod render;
pub mod report;
pub mod rules;
pub mod selector;
pub mod source;
pub mod srcmap;
pub mod suppress;
pub mod walk;
pub mod yaml;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use progress::{Phase, Progress};
pub use report::{Report, Stats};

use crate::cluster::Split;
use crate::config::{AllowEntry, ClusterConfig, Profile, Settings, ValueSource};
use crate::known::Known;
use crate::load::LoadOptions;
use crate::object::{ClassifyOptions, Object, Problem};
use crate::report::{ClusterSummary, Inputs, Outcome};
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
    lint_against(settings, stdin, progress, None)
}

/// `lint_with_progress`, leaving out what `known` holds (`--diff-base`, `--baseline`): the
/// findings that were there before are counted, not reported, and EXT005 knows which claims are
/// older.
#[must_use]
pub fn lint_against(
    settings: &Settings,
    stdin: Option<Vec<u8>>,
    progress: Option<&Progress>,
    known: Option<&Known>,
) -> Report {
    let mut walked =
        walk::walk_with_context(&walk_options(settings), &settings.paths, &settings.context);
    if settings.render.enabled {
        expand::render_all(&mut walked, &render_options(settings), progress);
    }
    run(settings, walked, stdin, progress, known)
}

fn render_options(settings: &Settings) -> expand::RenderOptions {
    expand::RenderOptions {
        release: settings
            .render
            .release
            .clone()
            .unwrap_or_else(|| "release-name".into()),
        namespace: settings.namespace.0.clone(),
        kube_version: format!("v{}.0", settings.kubernetes.0),
        values: settings.render.values.clone(),
        roots: settings
            .render
            .roots
            .iter()
            .map(|r| expand::RootOptions {
                dir: r.dir.clone(),
                release: r.release.clone(),
                namespace: r.namespace.clone(),
                values: r.values.clone(),
                api_versions: r.api_versions.clone(),
                load_restrictor: r.load_restrictor.clone(),
            })
            .collect(),
        strict: settings.render.strict,
        // GitOps releases name paths from the repository's root: the config file's folder.
        repository: settings
            .config
            .as_ref()
            .filter(|c| c.path.is_file())
            .map(|c| {
                c.path
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
            }),
    }
}

/// What the paths held at a git revision: lints `snapshot` (the same paths, read through git)
/// with the same settings, and keeps its unsuppressed findings' fingerprints and its claims.
/// With `--render`, the revision's files are written to a temporary folder for the renderers.
pub fn known_at(settings: &Settings, snapshot: git::Snapshot) -> Result<Known, error::Error> {
    let roots = [settings.paths.as_slice(), settings.context.as_slice()].concat();
    let label = format!("at `{}`", snapshot.rev);
    let walked = if settings.render.enabled {
        let checkout = snapshot.check_out()?;
        let placed: Vec<PathBuf> = checkout
            .roots
            .iter()
            .map(|r| {
                r.clone()
                    .unwrap_or_else(|| checkout.dir.join("-not-at-the-revision-"))
            })
            .collect();
        let mut opts = walk_options(settings);
        if let Some(base) = checkout.place(&settings.glob_base) {
            opts.glob_base = base;
        }
        let n = settings.paths.len();
        let mut walked = walk::walk_with_context(&opts, &placed[..n], &placed[n..]);
        // Values files as the revision has them.
        let mut render = render_options(settings);
        for (chart, files) in &mut render.values {
            if let Some(c) = checkout.place(chart) {
                *chart = c;
            }
            for f in files.iter_mut() {
                if let Some(p) = checkout.place(f) {
                    *f = p;
                }
            }
        }
        // Per-root options and the repository root of releases, as the revision has them.
        for root in &mut render.roots {
            if let Some(d) = checkout.place(&root.dir) {
                root.dir = d;
            }
            for f in &mut root.values {
                if let Some(p) = checkout.place(f) {
                    *f = p;
                }
            }
        }
        if let Some(r) = render.repository.as_mut()
            && let Some(p) = checkout.place(r)
        {
            *r = p;
        }
        expand::render_all(&mut walked, &render, None);
        walked.errors.clear();
        // Named as the working tree names them, so clusters and fingerprints match.
        let checkout_dir =
            std::fs::canonicalize(&checkout.dir).unwrap_or_else(|_| checkout.dir.clone());
        let in_checkout = format!("{}/", checkout_dir.to_string_lossy());
        let in_tree = match std::env::current_dir() {
            Ok(cwd)
                if std::fs::canonicalize(&cwd).ok().as_deref()
                    == std::fs::canonicalize(&checkout.top).ok().as_deref() =>
            {
                String::new()
            }
            _ => format!("{}/", source::display_name(&checkout.top)),
        };
        let now = |root: usize, p: &Path| -> PathBuf {
            p.strip_prefix(&placed[root])
                .map_or_else(|_| p.to_path_buf(), |rest| roots[root].join(rest))
        };
        walked.inputs = walked
            .inputs
            .into_iter()
            .filter_map(|input| match input {
                walk::Input::File {
                    path, root, role, ..
                } => {
                    let bytes = std::fs::read(&path).ok()?;
                    let user = now(root, &path);
                    Some(walk::Input::Blob {
                        name: source::display_name(&user),
                        path: user,
                        root,
                        bytes: bytes.into(),
                        role,
                    })
                }
                walk::Input::Rendered(mut r) => {
                    r.dir = now(r.root, &r.dir);
                    r.file = now(r.root, &r.file);
                    r.label =
                        expand::label(r.tool, &r.dir, r.variant.as_deref(), r.cluster.as_deref());
                    if let Some(e) = &mut r.error {
                        *e = e.replace(&in_checkout, &in_tree);
                    }
                    Some(walk::Input::Rendered(r))
                }
                other => Some(other),
            })
            .collect();
        // The checkout must outlive the run: sources are mapped by reading it. Sources read
        // from it are named as the working tree names them.
        let mut report = run(settings, walked, None, None, None);
        for f in &mut report.files {
            if let Some(rest) = f
                .path
                .as_deref()
                .and_then(|p| std::fs::canonicalize(p).ok())
                .and_then(|p| p.strip_prefix(&checkout_dir).ok().map(Path::to_path_buf))
            {
                f.name = source::display_name(&checkout.top.join(rest));
            }
        }
        drop(checkout);
        return Ok(known_from(&report, label));
    } else {
        walk::walk_snapshot(
            &walk_options(settings),
            &roots,
            settings.paths.len(),
            snapshot.files,
        )
    };
    let report = run(settings, walked, None, None, None);
    Ok(known_from(&report, label))
}

fn known_from(report: &Report, label: String) -> Known {
    let fingerprints = report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .map(|f| f.fingerprint(&report.files[f.primary.span.file.0 as usize].name))
        .collect();
    Known::from_run(
        label,
        fingerprints,
        report.claim_keys.iter().cloned().collect(),
    )
}

fn run(
    settings: &Settings,
    mut walked: walk::Walked,
    stdin: Option<Vec<u8>>,
    progress: Option<&Progress>,
    known: Option<&Known>,
) -> Report {
    in_stable_order(&mut walked);
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
    let assignment = cluster::assign(split, &walked.inputs);
    let plans: Vec<Plan<'_>> = assignment
        .clusters
        .iter()
        .map(|(name, config)| Plan::new(settings, name, config.map(|i| &settings.clusters[i])))
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
    let enabled = enabled(settings);

    // Each cluster is checked on its own: its objects, index, profile and conflicts.
    let mut objects = per_cluster(
        std::mem::take(&mut inputs.objects),
        plans.len(),
        &assignment.of_input,
    );
    let mut problems: Vec<Vec<Problem>> = plans.iter().map(|_| Vec::new()).collect();
    for p in std::mem::take(&mut inputs.problems) {
        problems[assignment.of_input[p.span.file.0 as usize]].push(p);
    }
    // Custom resources of a version their cluster's CRDs do not serve: kubectl fails them.
    for (objects, problems) in objects.iter_mut().zip(&mut problems) {
        for rejected in crd::reject_unserved(objects, problems) {
            inputs.uncount(&rejected);
        }
    }
    let mut findings = Vec::new();
    let mut claim_keys = Vec::new();
    let mut inventory = Vec::new();
    let mut clusters = Vec::new();
    if let Some(p) = progress {
        p.start(Phase::Check, Some(plans.len()));
    }
    for ((plan, objects), problems) in plans.iter().zip(&objects).zip(&problems) {
        if let Some(p) = progress {
            p.add(1, 0);
        }
        let index = index::build(objects);
        let (requested, source) = plan.profile;
        let set_by = (*source != ValueSource::Default).then(|| source.message(config_file));
        let scope = if plans.len() > 1 {
            format!("cluster `{}`", plan.name)
        } else {
            "the input".to_string()
        };
        let file_name = |span: source::Span| inputs.files[span.file.0 as usize].name.clone();
        let profile = profile::decide(
            *requested,
            set_by,
            index.cloud_evidence(),
            &file_name,
            &scope,
        );
        let (target, version_source, gates) = settings.target(plan.config);
        let kubernetes = profile::kubernetes(
            target,
            (*version_source != ValueSource::Default).then(|| version_source.message(config_file)),
            gates
                .iter()
                .map(|g| g.source.message(config_file))
                .collect(),
        );
        let lb_setting = plan
            .config
            .and_then(|c| c.load_balancer.as_ref())
            .unwrap_or(&settings.load_balancer);
        let lb = lb::decide(
            lb_setting.0.map(|i| (i, lb_setting.1.message(config_file))),
            objects,
            &scope,
        );
        let claims = object::claims::collect(objects);
        claim_keys.extend(
            claims
                .iter()
                .filter(|c| c.inert.is_none())
                .map(|c| c.key(plan.name)),
        );
        let by_address = object::claims::by_address(&claims);
        let refused = rules::refused_objects(&claims, &kubernetes.target);
        let cx = RuleContext {
            objects,
            claims: &claims,
            by_address: &by_address,
            refused: &refused,
            kubernetes: &kubernetes.target,
            index: &index,
            problems,
            profile: &profile,
            allow: plan.allow,
            config_file,
            enabled: &enabled,
            scope: &scope,
            cluster: plan.name,
            history,
            lb: &lb,
        };
        let name: Arc<str> = Arc::from(plan.name);
        let from = findings.len();
        findings.extend(rules::check(&cx));
        for f in &mut findings[from..] {
            f.cluster = Some(Arc::clone(&name));
        }
        if settings.inventory {
            inventory.extend(inventory::rows(&inventory::Inputs {
                claims: &claims,
                index: &index,
                allow: plan.allow,
                owner_keys: &settings.owner_keys,
                route_keys: &settings.route_keys,
                firewall_keys: &settings.firewall_keys,
                profile: &profile,
                kubernetes: &kubernetes.target,
                lb: &lb,
                cluster: &name,
            }));
        }
        clusters.push(ClusterSummary {
            name,
            profile,
            kubernetes,
            lb,
            files: assignment
                .of_input
                .iter()
                .filter(|&&c| assignment.clusters[c].0 == plan.name)
                .count(),
        });
    }
    // Findings about rendered objects point at their template or patch.
    inputs.sources_start_here();
    srcmap::map(&mut findings, &mut inputs.files);
    fix::plan(&mut findings, &inputs.files, settings.limits.build());
    suppress::apply(
        &inputs.files,
        &inputs.ignores,
        &mut findings,
        enabled.severity(EXT901),
        &enabled,
    );
    let filtered = known.map(|k| known::filter(&mut findings, &inputs.files, k));
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

/// The objects of each cluster, in input order. One cluster (the usual run) takes them all
/// without a copy; otherwise each cluster's vector is sized first, so a million objects are not
/// copied again while vectors grow.
fn per_cluster(objects: Vec<Object>, clusters: usize, of_input: &[usize]) -> Vec<Vec<Object>> {
    if clusters == 1 {
        return vec![objects];
    }
    let mut counts = vec![0; clusters];
    for o in &objects {
        counts[of_input[o.file.0 as usize]] += 1;
    }
    let mut out: Vec<Vec<Object>> = counts.into_iter().map(Vec::with_capacity).collect();
    for o in objects {
        out[of_input[o.file.0 as usize]].push(o);
    }
    out
}

/// Puts the inputs in an order that does not depend on the order of the paths given: by the
/// name reports show, then the path (reported inputs first, then context). File ids follow it,
/// so whatever is decided by the first of several objects (the load-balancer and cloud
/// evidence, the first policy that isolates some pods) is decided by file name and position.
fn in_stable_order(walked: &mut walk::Walked) {
    fn key(input: &walk::Input) -> (&str, u8, Option<&Path>) {
        match input {
            walk::Input::File { name, path, .. } => (name, 0, Some(path)),
            walk::Input::Blob { name, path, .. } => (name, 1, Some(path)),
            walk::Input::Stdin { name, .. } => (name, 2, None),
            walk::Input::Rendered(r) => (&r.label, 3, Some(&r.dir)),
        }
    }
    let reported = walked.reported.min(walked.inputs.len());
    let (paths, context) = walked.inputs.split_at_mut(reported);
    paths.sort_by(|a, b| key(a).cmp(&key(b)));
    context.sort_by(|a, b| key(a).cmp(&key(b)));
}

/// What one cluster is checked with: the settings, with the cluster's own overrides.
struct Plan<'a> {
    name: &'a str,
    config: Option<&'a ClusterConfig>,
    profile: &'a (Profile, ValueSource),
    allow: &'a [AllowEntry],
    load: LoadOptions,
}

impl<'a> Plan<'a> {
    fn new(settings: &'a Settings, name: &'a str, config: Option<&'a ClusterConfig>) -> Self {
        let namespace = config
            .and_then(|c| c.namespace.as_ref())
            .unwrap_or(&settings.namespace);
        Plan {
            name,
            config,
            profile: config
                .and_then(|c| c.profile.as_ref())
                .unwrap_or(&settings.profile),
            allow: config
                .and_then(|c| c.allow.as_deref())
                .unwrap_or(&settings.allow),
            load: LoadOptions {
                chart_dir: settings.render.chart_dir.clone(),
                max_file_size: settings.limits.max_file_size,
                build: settings.limits.build(),
                classify: ClassifyOptions {
                    default_namespace: namespace.0.clone(),
                    alias_budget: settings.limits.max_alias_expansion,
                    kubernetes: settings.target(config).0,
                },
            },
        }
    }
}

fn walk_options(settings: &Settings) -> WalkOptions {
    WalkOptions {
        no_ignore: settings.no_ignore,
        include: settings.include.clone(),
        exclude: settings.exclude.clone(),
        glob_base: settings.glob_base.clone(),
        stdin_filename: settings.stdin_filename.clone(),
        render: settings.render.enabled,
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
        settings
            .rules
            .iter()
            .filter(|(_, (_, src))| matches!(src, ValueSource::File { .. }))
            .map(|(code, _)| *code)
            .collect(),
    )
}
