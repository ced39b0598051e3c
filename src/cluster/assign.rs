//! Clusters: which inputs are linted together. One run is one cluster unless the config's
//! `clusters:` say which files belong where, or `--cluster-per-path` makes every path given its
//! own cluster. Each cluster has its own index, profile, address conflicts and inventory.
//!
//! A file goes to the first configured cluster whose `paths` globs (relative to the config
//! file's folder) match it, else to `default`.

use std::path::{Path, PathBuf};

use crate::config::{ClusterConfig, DEFAULT_CLUSTER};
use crate::input::walk::Input;
use crate::object::Object;
use crate::source::display_name;

/// How the inputs of a run are split into clusters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// Each cluster: its name and, for a configured one, its config (index into `clusters:`).
    pub clusters: Vec<(String, Option<usize>)>,
    /// The cluster of each input, by input index.
    pub of_input: Vec<usize>,
}

/// How clusters are told apart.
#[derive(Debug, Clone, Copy)]
pub enum Split<'a> {
    /// By the config's `clusters:` globs, relative to `base`.
    Config {
        clusters: &'a [ClusterConfig],
        base: &'a Path,
    },
    /// Every path given (`paths`, the first `paths.len()` roots) is a cluster; context inputs
    /// go to `default`.
    PerPath { paths: &'a [PathBuf] },
}

/// Assigns every input to a cluster. Clusters are listed by name, so the order of the paths
/// given does not change the output.
///
/// # Panics
///
/// Never: every input's cluster is in the list it is looked up in.
#[must_use]
pub fn assign(split: Split<'_>, inputs: &[Input]) -> Assignment {
    let names: Vec<(String, Option<usize>)> = inputs
        .iter()
        .map(|input| match (split, input) {
            // A rendered chart or kustomization is a cluster of its own, named after its folder,
            // unless the config's clusters take its `Chart.yaml` or kustomization file.
            (Split::Config { clusters, base }, Input::Rendered(r)) => {
                let rel = crate::source::relative_to(&r.file, base);
                clusters
                    .iter()
                    .position(|c| c.paths.is_match(&rel))
                    .map_or((rendered_name(r), None), |i| {
                        (clusters[i].name.clone(), Some(i))
                    })
            }
            (Split::PerPath { .. }, Input::Rendered(r)) => (rendered_name(r), None),
            (Split::PerPath { paths }, _) => match paths.get(input.root()) {
                Some(p) if p.as_os_str() == "-" => (input.name().to_string(), None),
                Some(p) => (display_name(p), None),
                None => (DEFAULT_CLUSTER.to_string(), None),
            },
            (Split::Config { clusters: [], .. }, _) => (DEFAULT_CLUSTER.to_string(), None),
            (Split::Config { clusters, base }, _) => {
                let rel = match input {
                    Input::File { path, .. } | Input::Blob { path, .. } => {
                        crate::source::relative_to(path, base)
                    }
                    Input::Stdin { name, .. } => name.clone(),
                    Input::Rendered(r) => r.label.clone(),
                };
                clusters
                    .iter()
                    .position(|c| c.paths.is_match(&rel))
                    .map_or((DEFAULT_CLUSTER.to_string(), None), |i| {
                        (clusters[i].name.clone(), Some(i))
                    })
            }
        })
        .collect();
    let mut clusters: Vec<(String, Option<usize>)> = names.clone();
    clusters.sort();
    clusters.dedup();
    if clusters.is_empty() {
        clusters.push((DEFAULT_CLUSTER.to_string(), None));
    }
    let of_input = names
        .iter()
        .map(|n| {
            clusters
                .binary_search(n)
                .expect("BUG: every input's cluster is listed")
        })
        .collect();
    Assignment { clusters, of_input }
}

/// The objects of each cluster, in input order. One cluster (the usual run) takes them all
/// without a copy; otherwise each cluster's vector is sized first, so a million objects are not
/// copied again while vectors grow.
#[must_use]
pub fn per_cluster(objects: Vec<Object>, clusters: usize, of_input: &[usize]) -> Vec<Vec<Object>> {
    if clusters == 1 {
        return vec![objects];
    }
    let mut counts = vec![0; clusters];
    for o in &objects {
        counts[of_input[o.file.index()]] += 1;
    }
    let mut out: Vec<Vec<Object>> = counts.into_iter().map(Vec::with_capacity).collect();
    for o in objects {
        out[of_input[o.file.index()]].push(o);
    }
    out
}

/// Puts the inputs in an order that does not depend on the order of the paths given: by the
/// name reports show, then the path (reported inputs first, then context). File ids follow it,
/// so whatever is decided by the first of several objects (the load-balancer and cloud
/// evidence, the first policy that isolates some pods) is decided by file name and position.
pub fn in_stable_order(walked: &mut crate::input::walk::Walked) {
    fn key(input: &Input) -> (&str, u8, Option<&Path>) {
        match input {
            Input::File { name, path, .. } => (name, 0, Some(path)),
            Input::Blob { name, path, .. } => (name, 1, Some(path)),
            Input::Stdin { name, .. } => (name, 2, None),
            Input::Rendered(r) => (&r.label, 3, Some(&r.dir)),
        }
    }
    let reported = walked.reported.min(walked.inputs.len());
    let (paths, context) = walked.inputs.split_at_mut(reported);
    paths.sort_by(|a, b| key(a).cmp(&key(b)));
    context.sort_by(|a, b| key(a).cmp(&key(b)));
}

/// The cluster of a rendered chart or kustomization of its own: its folder, and the values
/// file of a chart-testing variant (each variant is a release of its own).
fn rendered_name(r: &crate::input::walk::Rendered) -> String {
    if let Some(c) = &r.cluster {
        return c.clone();
    }
    match &r.variant {
        Some(v) => format!("{} (values {v})", display_name(&r.dir)),
        None => display_name(&r.dir),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, root: usize) -> Input {
        Input::File {
            path: PathBuf::from(path),
            name: path.to_string(),
            root,
            role: crate::source::Role::Manifest,
        }
    }

    fn cluster(name: &str, glob: &str) -> ClusterConfig {
        let mut b = globset::GlobSetBuilder::new();
        b.add(globset::Glob::new(glob).expect("glob"));
        ClusterConfig {
            name: name.into(),
            paths: b.build().expect("set"),
            ..ClusterConfig::default()
        }
    }

    #[test]
    fn the_first_matching_cluster_wins_and_the_rest_is_default() {
        let clusters = [cluster("prod", "prod/**"), cluster("all", "**")];
        let a = assign(
            Split::Config {
                clusters: &clusters,
                base: Path::new("repo"),
            },
            &[
                file("repo/prod/a.yaml", 0),
                file("repo/staging/b.yaml", 0),
                file("elsewhere/c.yaml", 1),
            ],
        );
        let names: Vec<&str> = a
            .of_input
            .iter()
            .map(|&i| a.clusters[i].0.as_str())
            .collect();
        assert_eq!(names, ["prod", "all", "all"]);
    }

    #[test]
    fn per_path_clusters_are_named_after_the_path_and_sorted() {
        let paths = [PathBuf::from("staging.yaml"), PathBuf::from("prod")];
        let a = assign(
            Split::PerPath { paths: &paths },
            &[
                file("staging.yaml", 0),
                file("prod/x.yaml", 1),
                file("ctx/y.yaml", 2),
            ],
        );
        let names: Vec<&str> = a.clusters.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(names, ["default", "prod", "staging.yaml"]);
        assert_eq!(a.of_input, [2, 1, 0]);
    }
}
