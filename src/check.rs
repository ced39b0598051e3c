//! The check stage: each cluster on its own. Its facts are built once (the index, the profile
//! and Kubernetes target decided with the evidence that decided them, the load balancer, the
//! address claims), then the rules and the inventory read them.

use std::sync::Arc;

use crate::cluster::{index, lb, profile};
use crate::config::{Settings, ValueSource};
use crate::finding::Finding;
use crate::object::claims::{self, History};
use crate::object::{Object, Problem};
use crate::plan::Plan;
use crate::progress::{Phase, Progress};
use crate::report::ClusterSummary;
use crate::report::inventory;
use crate::rules::{self, Enabled, RuleContext};
use crate::source::{FileId, SourceFile, Span};

/// What the check stage needs besides each cluster's objects.
pub struct Run<'a> {
    pub settings: &'a Settings,
    pub plans: &'a [Plan<'a>],
    pub files: &'a [SourceFile],
    pub config_file: Option<FileId>,
    pub enabled: &'a Enabled,
    pub history: &'a History,
    /// Files (and standard input) in each cluster.
    pub files_per_cluster: Vec<usize>,
}

/// What the clusters gave.
#[derive(Default)]
pub struct Checked {
    pub findings: Vec<Finding>,
    /// The keys of the claims that take effect (`--diff-base` compares them).
    pub claim_keys: Vec<String>,
    pub inventory: Vec<inventory::Row>,
    pub clusters: Vec<ClusterSummary>,
}

/// Checks each cluster: `objects[i]` and `problems[i]` are cluster `i`'s.
#[must_use]
pub fn check(
    run: &Run<'_>,
    objects: &[Vec<Object>],
    problems: &[Vec<Problem>],
    progress: Option<&Progress>,
) -> Checked {
    let mut out = Checked::default();
    if let Some(p) = progress {
        p.start(Phase::Check, Some(run.plans.len()));
    }
    for (i, plan) in run.plans.iter().enumerate() {
        if let Some(p) = progress {
            p.add(1, 0);
        }
        cluster(run, i, plan, &objects[i], &problems[i], &mut out);
    }
    out
}

fn cluster(
    run: &Run<'_>,
    i: usize,
    plan: &Plan<'_>,
    objects: &[Object],
    problems: &[Problem],
    out: &mut Checked,
) {
    let (settings, config_file) = (run.settings, run.config_file);
    let index = index::build(objects);
    let (requested, source) = plan.profile;
    let set_by = (*source != ValueSource::Default).then(|| source.message(config_file));
    let scope = if run.plans.len() > 1 {
        format!("cluster `{}`", plan.name)
    } else {
        "the input".to_string()
    };
    let file_name = |span: Span| run.files[span.file].name.clone();
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
    let claims = claims::collect(objects);
    out.claim_keys.extend(
        claims
            .iter()
            .filter(|c| c.inert.is_none())
            .map(|c| c.key(plan.name)),
    );
    let by_address = claims::by_address(&claims);
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
        enabled: run.enabled,
        scope: &scope,
        cluster: plan.name,
        history: run.history,
        lb: &lb,
    };
    let name: Arc<str> = Arc::from(plan.name);
    let from = out.findings.len();
    out.findings.extend(rules::check(&cx));
    for f in &mut out.findings[from..] {
        f.cluster = Some(Arc::clone(&name));
    }
    if settings.inventory {
        out.inventory.extend(inventory::rows(&inventory::Inputs {
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
    out.clusters.push(ClusterSummary {
        name,
        profile,
        kubernetes,
        lb,
        files: run.files_per_cluster[i],
    });
}
