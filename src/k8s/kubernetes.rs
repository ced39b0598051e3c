//! Kubernetes releases and what each does with the fields extip-lint checks: one table
//! (`TIMELINE`), each entry with its source and whether it is released or only planned, so a new
//! Kubernetes release is one edit here. The rest of the tool asks a `Target` (the version and
//! feature gates a cluster runs) rather than comparing version numbers itself.

use std::fmt;

mod apis;
mod built_in;
mod fields;

pub use apis::{Unserved, group_version};
pub use built_in::BUILT_IN;
pub use fields::{REMOVED_APIS, RemovedApi, field_removed, field_served, fields_not_yet};

/// A Kubernetes minor release, `1.<minor>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub minor: u32,
}

/// The newest minor release extip-lint knows (released 2026-08-26); the default target.
pub const NEWEST: Version = Version { minor: 37 };

pub(crate) const fn v(minor: u32) -> Version {
    Version { minor }
}

impl Version {
    /// Reads `1.36`, `v1.36` or `1.36.2` (the patch release does not matter).
    pub fn parse(text: &str) -> Result<Version, String> {
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let mut parts = t.split('.');
        let bad = || {
            format!(
                "`{text}` is not a Kubernetes version: write the minor release, like `{NEWEST}`"
            )
        };
        let number = |p: Option<&str>| -> Option<u32> {
            p.filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))?
                .parse()
                .ok()
        };
        let (Some(1), Some(minor)) = (number(parts.next()), number(parts.next())) else {
            return Err(bad());
        };
        match parts.next() {
            None => {}
            Some(p) if number(Some(p)).is_some() && parts.next().is_none() => {}
            Some(_) => return Err(bad()),
        }
        if minor > 99 {
            return Err(bad());
        }
        Ok(Version { minor })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "1.{}", self.minor)
    }
}

/// Whether a fact is in a shipped release or only in a KEP's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Released,
    /// Tentative: the KEP's plan, which may move.
    Planned,
}

/// The feature gates whose state changes what extip-lint reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Gate {
    /// kube-proxy programs `spec.externalIPs` (KEP-5707).
    AllowServiceExternalIPs,
    /// kube-apiserver rejects IPv4 addresses with leading zeros and IPv4-mapped IPv6 addresses
    /// in built-in API fields (KEP-4858).
    StrictIPCIDRValidation,
}

impl Gate {
    pub const ALL: [Gate; 2] = [Gate::AllowServiceExternalIPs, Gate::StrictIPCIDRValidation];

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Gate::AllowServiceExternalIPs => "AllowServiceExternalIPs",
            Gate::StrictIPCIDRValidation => "StrictIPCIDRValidation",
        }
    }

    /// The component that reads the gate.
    #[must_use]
    pub fn component(self) -> &'static str {
        match self {
            Gate::AllowServiceExternalIPs => "kube-proxy",
            Gate::StrictIPCIDRValidation => "kube-apiserver",
        }
    }

    /// The gate's state before it existed: what the code did before.
    fn before(self) -> bool {
        match self {
            Gate::AllowServiceExternalIPs => true,
            Gate::StrictIPCIDRValidation => false,
        }
    }

    #[must_use]
    pub fn parse(name: &str) -> Option<Gate> {
        Gate::ALL.into_iter().find(|g| g.name() == name)
    }
}

/// What changed in a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A feature gate's stage and default; `locked` gates cannot be set against the default.
    Gate {
        gate: Gate,
        stage: &'static str,
        default: bool,
        locked: bool,
    },
    /// A gate is gone: setting it is an error.
    GateRemoved(Gate),
    /// The API server warns on every create and update of a Service with `externalIPs`.
    ExternalIpsDeprecated,
    /// `spec.loadBalancerIP` is documented as deprecated.
    LoadBalancerIpDeprecated,
    /// The API server's warnings about non-standard IP addresses read `wording`.
    IpWarnings(IpWording),
}

/// The wording of the API server's non-standard IP warnings in a release range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpWording {
    /// 1.27 to 1.32, Service fields only.
    Accepted,
    /// 1.33 to 1.35: leading zeros and IPv4-mapped "will be considered invalid".
    Future,
    /// 1.36 on: they "are invalid".
    Invalid,
}

/// One change in one release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Milestone {
    pub since: Version,
    pub change: Change,
    pub status: Status,
    /// Where the fact comes from.
    pub source: &'static str,
}

/// Everything extip-lint knows about Kubernetes releases, oldest first.
pub static TIMELINE: &[Milestone] = &[
    Milestone {
        since: v(24),
        change: Change::LoadBalancerIpDeprecated,
        status: Status::Released,
        source: "k8s.io/api core/v1 ServiceSpec.LoadBalancerIP doc comment, since v0.24.0",
    },
    Milestone {
        since: v(27),
        change: Change::IpWarnings(IpWording::Accepted),
        status: Status::Released,
        source: "kubernetes/kubernetes#114505, Kubernetes 1.27 release notes",
    },
    Milestone {
        since: v(33),
        change: Change::Gate {
            gate: Gate::StrictIPCIDRValidation,
            stage: "alpha",
            default: false,
            locked: false,
        },
        status: Status::Released,
        source: "KEP-4858; Kubernetes 1.33 feature gates",
    },
    Milestone {
        since: v(33),
        change: Change::IpWarnings(IpWording::Future),
        status: Status::Released,
        source: "k8s.io/apimachinery pkg/util/validation/ip.go GetWarningsForIP, v0.33.0",
    },
    Milestone {
        since: v(36),
        change: Change::Gate {
            gate: Gate::StrictIPCIDRValidation,
            stage: "beta",
            default: true,
            locked: false,
        },
        status: Status::Released,
        source: "KEP-4858; Kubernetes 1.36 release notes (kubernetes/kubernetes#137053)",
    },
    Milestone {
        since: v(36),
        change: Change::IpWarnings(IpWording::Invalid),
        status: Status::Released,
        source: "k8s.io/apimachinery pkg/util/validation/ip.go GetWarningsForIP, v0.36.0",
    },
    Milestone {
        since: v(36),
        change: Change::ExternalIpsDeprecated,
        status: Status::Released,
        source: "KEP-5707; Kubernetes 1.36 release notes (kubernetes/kubernetes#137293)",
    },
    Milestone {
        since: v(36),
        change: Change::Gate {
            gate: Gate::AllowServiceExternalIPs,
            stage: "deprecated",
            default: true,
            locked: false,
        },
        status: Status::Released,
        source: "KEP-5707 phase 1; Kubernetes 1.36 feature gates",
    },
    Milestone {
        since: v(38),
        change: Change::Gate {
            gate: Gate::StrictIPCIDRValidation,
            stage: "GA",
            default: true,
            locked: true,
        },
        status: Status::Planned,
        source: "KEP-4858 (stable milestone v1.38)",
    },
    Milestone {
        since: v(40),
        change: Change::Gate {
            gate: Gate::AllowServiceExternalIPs,
            stage: "deprecated",
            default: false,
            locked: false,
        },
        status: Status::Planned,
        source: "KEP-5707 phase 2 (\"tentatively in Kubernetes 1.40\")",
    },
    Milestone {
        since: v(43),
        change: Change::Gate {
            gate: Gate::AllowServiceExternalIPs,
            stage: "deprecated",
            default: false,
            locked: true,
        },
        status: Status::Planned,
        source: "KEP-5707 phase 3 (\"tentatively in Kubernetes 1.43\"); kube-proxy code removed",
    },
];

impl Target {
    /// The removal of `kind` in `api_version`, if this version no longer serves it.
    #[must_use]
    pub fn removed(&self, api_version: &str, kind: &str) -> Option<&'static RemovedApi> {
        REMOVED_APIS.iter().find(|r| {
            r.api_version == api_version && r.kinds.contains(&kind) && r.removed <= self.version
        })
    }
}

/// The newest milestone at or before `version` that `pick` accepts.
fn latest<T>(
    version: Version,
    pick: impl Fn(&Milestone) -> Option<T>,
) -> Option<(T, &'static Milestone)> {
    TIMELINE
        .iter()
        .rev()
        .filter(|m| m.since <= version)
        .find_map(|m| pick(m).map(|t| (t, m)))
}

/// Why a gate is in the state it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateSetting {
    /// The release's default, from this milestone.
    Default(&'static Milestone),
    /// The gate does not exist in this release; its state is what the code did before.
    Absent,
    /// Set in the config.
    Set,
}

/// A gate's state in a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateState {
    pub on: bool,
    pub setting: GateSetting,
}

impl GateState {
    /// Whether the state rests on a planned (not yet released) milestone.
    #[must_use]
    pub fn planned(&self) -> bool {
        matches!(self.setting, GateSetting::Default(m) if m.status == Status::Planned)
    }
}

/// The version and feature gates a cluster runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub version: Version,
    /// Gates set in the config, against the version's defaults.
    pub gates: Vec<(Gate, bool)>,
}

impl Default for Target {
    fn default() -> Self {
        Target {
            version: NEWEST,
            gates: Vec::new(),
        }
    }
}

impl Target {
    /// The state of `gate`.
    #[must_use]
    pub fn gate(&self, gate: Gate) -> GateState {
        if let Some(&(_, on)) = self.gates.iter().find(|(g, _)| *g == gate) {
            return GateState {
                on,
                setting: GateSetting::Set,
            };
        }
        match latest(self.version, |m| match m.change {
            Change::Gate {
                gate: g, default, ..
            } if g == gate => Some(default),
            _ => None,
        }) {
            Some((on, m)) => GateState {
                on,
                setting: GateSetting::Default(m),
            },
            None => GateState {
                on: gate.before(),
                setting: GateSetting::Absent,
            },
        }
    }

    /// The milestone that made `change` true for this version, if it is.
    #[must_use]
    pub fn since(&self, change: Change) -> Option<&'static Milestone> {
        latest(self.version, |m| (m.change == change).then_some(())).map(|((), m)| m)
    }

    /// The wording of the API server's IP warnings, if it warns at all.
    #[must_use]
    pub fn ip_wording(&self) -> Option<IpWording> {
        latest(self.version, |m| match m.change {
            Change::IpWarnings(w) => Some(w),
            _ => None,
        })
        .map(|(w, _)| w)
    }

    /// Checks that each set gate can be set in this version: it exists, is not removed, and is
    /// not locked to the other value.
    pub fn check(&self) -> Result<(), String> {
        for &(gate, on) in &self.gates {
            let exists = TIMELINE.iter().any(|m| {
                matches!(m.change, Change::Gate { gate: g, .. } if g == gate)
                    && m.since <= self.version
            });
            if !exists {
                let first = TIMELINE
                    .iter()
                    .find(|m| matches!(m.change, Change::Gate { gate: g, .. } if g == gate))
                    .map_or_else(String::new, |m| format!(" (it arrives in {})", m.since));
                return Err(format!(
                    "feature gate `{}` does not exist in Kubernetes {}{first}",
                    gate.name(),
                    self.version
                ));
            }
            if let Some(((), m)) = latest(self.version, |m| match m.change {
                Change::GateRemoved(g) if g == gate => Some(()),
                _ => None,
            }) {
                return Err(format!(
                    "feature gate `{}` is removed in Kubernetes {}{}",
                    gate.name(),
                    m.since,
                    planned_mark(m)
                ));
            }
            if let Some(((default, true), m)) = latest(self.version, |m| match m.change {
                Change::Gate {
                    gate: g,
                    default,
                    locked,
                    ..
                } if g == gate => Some((default, locked)),
                _ => None,
            }) && default != on
            {
                return Err(format!(
                    "feature gate `{}` is locked to {default} from Kubernetes {}{}; {} refuses to start with it set to {on}",
                    gate.name(),
                    m.since,
                    planned_mark(m),
                    gate.component()
                ));
            }
        }
        Ok(())
    }
}

/// What a target's kube-proxy does with `spec.externalIPs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIpsFate {
    pub version: Version,
    /// kube-proxy programs them.
    pub programmed: bool,
    /// The release that deprecated them, if the target has it.
    pub deprecated_since: Option<Version>,
    /// The gate is set in the config (rather than the release's default).
    pub set: bool,
    /// The next default change: the release whose default turns kube-proxy off, when the target
    /// is before it, or the one that did, with whether it is planned.
    pub default_off: Option<(Version, Status)>,
}

impl ExternalIpsFate {
    /// `1.40, planned` inside parentheses, `1.40 (planned)` outside, or `1.40`.
    fn off_release(&self, in_parentheses: bool) -> String {
        self.default_off
            .map_or_else(String::new, |(v, st)| match (st, in_parentheses) {
                (Status::Planned, true) => format!("{v}, planned"),
                (Status::Planned, false) => format!("{v} (planned)"),
                (Status::Released, _) => v.to_string(),
            })
    }

    /// Why kube-proxy does or does not program them, as a clause.
    #[must_use]
    pub fn kube_proxy(&self) -> String {
        let v = self.version;
        match (self.programmed, self.set, self.default_off) {
            (true, true, Some((off, _))) if off <= v => format!(
                "kube-proxy {v} programs them only because the config sets `AllowServiceExternalIPs: true` (off by default from {})",
                self.off_release(true)
            ),
            (true, true, _) => format!(
                "kube-proxy {v} programs them (the config sets `AllowServiceExternalIPs: true`)"
            ),
            (true, false, Some(_)) => format!(
                "kube-proxy {v} programs them; by default it stops from {}",
                self.off_release(false)
            ),
            (true, false, None) => format!("kube-proxy {v} programs them"),
            (false, true, _) => format!(
                "kube-proxy {v} does not program them (the config sets `AllowServiceExternalIPs: false`)"
            ),
            (false, false, _) => format!(
                "kube-proxy {v} does not program them (`AllowServiceExternalIPs` is off by default from {})",
                self.off_release(true)
            ),
        }
    }

    /// The facts in a phrase, for the inventory.
    #[must_use]
    pub fn words(&self) -> String {
        match self.deprecated_since {
            Some(since) => format!("deprecated since {since}; {}", self.kube_proxy()),
            None => format!("{}; deprecated from 1.36", self.kube_proxy()),
        }
    }
}

impl Target {
    /// What kube-proxy and the API server of this target do with externalIPs.
    #[must_use]
    pub fn external_ips(&self) -> ExternalIpsFate {
        let gate = self.gate(Gate::AllowServiceExternalIPs);
        let version = self.version;
        let off = |m: &&Milestone| {
            matches!(
                m.change,
                Change::Gate {
                    gate: Gate::AllowServiceExternalIPs,
                    default: false,
                    ..
                }
            )
        };
        // The release that turned (or turns) the default off: the latest at or before the
        // target, else the first after it.
        let default_off = TIMELINE
            .iter()
            .filter(off)
            .rfind(|m| m.since <= version)
            .or_else(|| TIMELINE.iter().filter(off).find(|m| m.since > version))
            .map(|m| (m.since, m.status));
        ExternalIpsFate {
            version,
            programmed: gate.on,
            deprecated_since: self.since(Change::ExternalIpsDeprecated).map(|m| m.since),
            set: gate.setting == GateSetting::Set,
            default_off: default_off
                .filter(|_| version.minor >= 36 || gate.setting == GateSetting::Set),
        }
    }
}

/// ` (planned)` for a planned milestone, else nothing.
#[must_use]
pub fn planned_mark(m: &Milestone) -> &'static str {
    match m.status {
        Status::Planned => " (planned)",
        Status::Released => "",
    }
}

/// The README's timeline table, generated from `TIMELINE` (a test keeps README in step).
#[must_use]
pub fn markdown_timeline() -> String {
    use fmt::Write as _;
    let mut out =
        String::from("| release | change | status | source |\n| --- | --- | --- | --- |\n");
    for m in TIMELINE {
        let what = match m.change {
            Change::Gate {
                gate,
                stage,
                default,
                locked,
            } => format!(
                "`{}` ({}) {stage}, {}{}",
                gate.name(),
                gate.component(),
                if default { "on by default" } else { "off by default" },
                if locked { ", locked" } else { "" }
            ),
            Change::GateRemoved(g) => format!("`{}` removed", g.name()),
            Change::ExternalIpsDeprecated => {
                "`spec.externalIPs` deprecated: the API server warns on every create and update"
                    .to_string()
            }
            Change::LoadBalancerIpDeprecated => "`spec.loadBalancerIP` deprecated".to_string(),
            Change::IpWarnings(IpWording::Accepted) => {
                "API server warns about non-standard IP addresses in Service fields".to_string()
            }
            Change::IpWarnings(IpWording::Future) => {
                "non-standard IP warnings say \"will be considered invalid in a future Kubernetes release\""
                    .to_string()
            }
            Change::IpWarnings(IpWording::Invalid) => {
                "non-standard IP warnings say \"is invalid\"".to_string()
            }
        };
        let status = match m.status {
            Status::Released => "released",
            Status::Planned => "**planned**",
        };
        let _ = writeln!(out, "| {} | {what} | {status} | {} |", m.since, m.source);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(minor: u32) -> Target {
        Target {
            version: v(minor),
            gates: Vec::new(),
        }
    }

    #[test]
    fn versions_are_read_as_people_write_them() {
        assert_eq!(Version::parse("1.36"), Ok(v(36)));
        assert_eq!(Version::parse("v1.30.4"), Ok(v(30)));
        for bad in ["1", "2.0", "1.x", "1.36.", "1.036x", "", "1.100"] {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timeline_is_in_release_order() {
        assert!(TIMELINE.windows(2).all(|w| w[0].since <= w[1].since));
        assert!(
            TIMELINE
                .iter()
                .all(|m| (m.since > NEWEST) == (m.status == Status::Planned)),
            "every milestone after the newest release is planned, and only those"
        );
    }

    #[test]
    fn strict_validation_turns_on_by_default_in_1_36() {
        let strict = |m| target(m).gate(Gate::StrictIPCIDRValidation).on;
        assert!(!strict(32));
        assert!(!strict(35));
        assert!(strict(36));
        assert_eq!(
            target(32).gate(Gate::StrictIPCIDRValidation).setting,
            GateSetting::Absent
        );
    }

    #[test]
    fn kube_proxy_stops_programming_external_ips_in_the_planned_release() {
        let allow = |m| target(m).gate(Gate::AllowServiceExternalIPs);
        assert!(allow(35).on && allow(39).on);
        assert!(!allow(40).on && allow(40).planned());
        assert!(!allow(39).planned());
    }

    #[test]
    fn gates_set_in_the_config_win_unless_locked_or_absent() {
        let mut t = target(36);
        t.gates.push((Gate::AllowServiceExternalIPs, false));
        assert!(!t.gate(Gate::AllowServiceExternalIPs).on);
        assert!(t.check().is_ok());
        t.version = v(43);
        t.gates = vec![(Gate::AllowServiceExternalIPs, true)];
        assert!(t.check().expect_err("rejected").contains("locked to false"));
        t.version = v(35);
        assert!(t.check().expect_err("rejected").contains("does not exist"));
    }

    #[test]
    fn facts_are_found_by_release() {
        assert!(target(35).since(Change::ExternalIpsDeprecated).is_none());
        assert!(target(36).since(Change::ExternalIpsDeprecated).is_some());
        assert_eq!(target(26).ip_wording(), None);
        assert_eq!(target(30).ip_wording(), Some(IpWording::Accepted));
        assert_eq!(target(35).ip_wording(), Some(IpWording::Future));
        assert_eq!(target(37).ip_wording(), Some(IpWording::Invalid));
    }
}
