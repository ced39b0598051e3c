//! Command-line overrides, applied after the file: flags win.

use super::{AllowEntry, Overrides, Profile, Settings, ValueSource, find};
use crate::error::Error;
use crate::k8s::address;
use crate::k8s::kubernetes::Version;

pub(super) fn apply(settings: &mut Settings, o: &Overrides) -> Result<(), Error> {
    if let Some(p) = &o.profile {
        let profile = Profile::parse(p).ok_or_else(|| Error::Usage(format!("unknown profile `{p}`: use one of cloud, on-prem, auto (or eks, gke, aks, bare-metal)")))?;
        settings.profile = (profile, ValueSource::Flag("--profile"));
    }
    if let Some(v) = &o.kubernetes_version {
        let version =
            Version::parse(v).map_err(|m| Error::Usage(format!("--kubernetes-version: {m}")))?;
        settings.kubernetes = (version, ValueSource::Flag("--kubernetes-version"));
    }
    if o.render {
        settings.render.enabled = true;
        settings
            .sources
            .insert("render".into(), ValueSource::Flag("--render"));
    }
    if o.strict_render {
        settings.render.enabled = true;
        settings.render.strict = true;
        settings
            .sources
            .insert("render".into(), ValueSource::Flag("--strict-render"));
        // Applied before `--select` and `--ignore`, which still decide whether it runs.
        settings.rules.insert(
            "EXT903",
            (
                Some(crate::finding::Severity::Error),
                ValueSource::Flag("--strict-render"),
            ),
        );
    }
    if let Some(dir) = &o.chart_dir {
        settings.render.chart_dir = Some(dir.clone());
    }
    if let Some(ns) = &o.namespace {
        settings.namespace = (ns.clone(), ValueSource::Flag("--namespace"));
    }
    for c in &o.allow_cidr {
        let (net, _) =
            address::parse_cidr(c).map_err(|m| Error::Usage(format!("--allow-cidr: {m}")))?;
        settings.allow.push(AllowEntry {
            net,
            text: c.clone(),
            source: ValueSource::Flag("--allow-cidr"),
        });
    }
    let catalog = settings.catalog;
    let codes = |list: &[String], flag: &str| -> Result<Vec<&'static str>, Error> {
        list.iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                find(catalog, s).map(|m| m.code).ok_or_else(|| {
                    Error::Usage(format!("{flag}: unknown rule `{s}` (see --list-rules)"))
                })
            })
            .collect()
    };
    let select = codes(&o.select, "--select")?;
    if !select.is_empty() {
        for (code, (sev, src)) in &mut settings.rules {
            if !select.contains(code) {
                *sev = None;
                *src = ValueSource::Flag("--select");
            }
        }
        for code in &select {
            if let Some((sev, src)) = settings.rules.get_mut(code)
                && sev.is_none()
            {
                *sev = find(catalog, code).map(|m| m.default_severity);
                *src = ValueSource::Flag("--select");
            }
        }
    }
    for code in codes(&o.ignore, "--ignore")? {
        settings
            .rules
            .insert(code, (None, ValueSource::Flag("--ignore")));
    }
    Ok(())
}
