//! `--diff-base`: what the paths held at a git revision, linted with the same settings, as the
//! findings and claims a run then leaves out (`Known`). The revision is one more source of
//! inputs: its files are read through git (or checked out for the renderers) and run through
//! the same pipeline.

use std::path::{Path, PathBuf};

use crate::config::Settings;
use crate::input::{expand, git, walk};
use crate::verdict::known::Known;
use crate::{Report, error, plan, source};

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
        let mut opts = plan::walk_options(settings);
        if let Some(base) = checkout.place(&settings.glob_base) {
            opts.glob_base = base;
        }
        let n = settings.paths.len();
        let mut walked = walk::walk_with_context(&opts, &placed[..n], &placed[n..]);
        // Values files as the revision has them.
        let mut render = plan::render_options(settings);
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
        let mut report = crate::run(settings, walked, None, None, None);
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
            &plan::walk_options(settings),
            &roots,
            settings.paths.len(),
            snapshot.files,
        )
    };
    let report = crate::run(settings, walked, None, None, None);
    Ok(known_from(&report, label))
}

fn known_from(report: &Report, label: String) -> Known {
    let fingerprints = report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .map(|f| f.fingerprint(&report.files[f.primary.span.file].name))
        .collect();
    Known::from_run(
        label,
        fingerprints,
        report.claim_keys.iter().cloned().collect(),
    )
}
