//! Settings -> each stage's options: the walk's, the renderers', each cluster's loading and
//! checking settings (the cluster's own overrides over the run's), the rules enabled. Computed
//! once, before anything is read; the stages never see `Settings`.

use std::path::{Path, PathBuf};

use crate::config::{AllowEntry, ClusterConfig, Profile, Settings, ValueSource};
use crate::input::expand;
use crate::input::walk::WalkOptions;
use crate::object::ClassifyOptions;
use crate::object::load::LoadOptions;
use crate::rules::Enabled;

/// What one cluster is checked with: the settings, with the cluster's own overrides.
pub struct Plan<'a> {
    pub name: &'a str,
    pub config: Option<&'a ClusterConfig>,
    pub profile: &'a (Profile, ValueSource),
    pub allow: &'a [AllowEntry],
    pub load: LoadOptions,
}

impl<'a> Plan<'a> {
    #[must_use]
    pub fn new(settings: &'a Settings, name: &'a str, config: Option<&'a ClusterConfig>) -> Self {
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

/// The walk's options.
#[must_use]
pub fn walk_options(settings: &Settings) -> WalkOptions {
    WalkOptions {
        no_ignore: settings.no_ignore,
        include: settings.include.clone(),
        exclude: settings.exclude.clone(),
        glob_base: settings.glob_base.clone(),
        stdin_filename: settings.stdin_filename.clone(),
        render: settings.render.enabled,
    }
}

/// The renderers' options: release name, namespace, target version, values files.
#[must_use]
pub fn render_options(settings: &Settings) -> expand::RenderOptions {
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

/// The rules that run, at their configured severity, in code order.
#[must_use]
pub fn enabled(settings: &Settings) -> Enabled {
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
