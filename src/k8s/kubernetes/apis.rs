//! Which API serves an object's `apiVersion` and `kind`, as far as a static reading can know
//! it. kubectl maps every object to a REST resource before it sends it (case-sensitively, the
//! version included) and fails an object no API serves (`no matches for kind "service" in
//! version "v1"`); the others in the file are still applied.
//!
//! What the API server serves itself is known: `BUILT_IN`, every kind of every group and
//! version in kubectl 1.37.1's own API types (k8s.io/api v0.37, read from the binary's
//! `DeepCopyObject` methods; the webhook-only `admission`, `imagepolicy` and `apidiscovery`
//! groups left out, `apiextensions.k8s.io` and `apiregistration.k8s.io` added). That set holds
//! everything 1.37 serves and some versions it no longer does, so it never calls a served
//! object unserved. What custom resources and aggregated APIs a cluster serves is not known
//! from a file: a kind of another group is unserved only when a `CustomResourceDefinition` in
//! the input defines it and not its version (checked once the input is read), or when no API
//! could serve it at all (a group without a dot, a kind or version no API may have).

use super::built_in::BUILT_IN;
use super::{NEWEST, Target};

/// Why no API serves an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unserved {
    /// The field at fault: `apiVersion` or `kind`.
    pub field: &'static str,
    /// Why, as a clause: "Kubernetes has no API group `core`, and a custom resource's group
    /// has a dot".
    pub why: String,
    /// What was probably meant, as a line of YAML: `apiVersion: v1`, `kind: Service`.
    pub meant: Option<String>,
    /// kubectl's error for it (or the API server's, which kubectl shows).
    pub kubectl: String,
}

/// An `apiVersion` as kubectl splits it: `(group, version)`, the core group being empty.
/// `None` for one with more than one `/`, which kubectl cannot read at all.
#[must_use]
pub fn group_version(api_version: &str) -> Option<(&str, &str)> {
    match api_version.split_once('/') {
        None => Some(("", api_version)),
        Some((_, v)) if v.contains('/') => None,
        Some(gv) => Some(gv),
    }
}

fn built_in_group(group: &str) -> bool {
    BUILT_IN.iter().any(|(g, _, _)| *g == group)
}

/// A DNS label as Kubernetes checks API versions and (lower-cased) custom kinds: lower-case
/// letters, digits and `-`, starting with a letter.
fn dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_lowercase()
        && b[b.len() - 1] != b'-'
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

/// A DNS subdomain, as an API group must be.
fn dns_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|l| {
            let b = l.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter()
                    .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        })
}

/// A version as Kubernetes releases them: `v1`, `v2beta1`, `v1alpha3`.
fn released_form(version: &str) -> bool {
    let Some(rest) = version.strip_prefix('v') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (n, rest) = rest.split_at(digits);
    if n.is_empty() || n.starts_with('0') {
        return false;
    }
    let tail = rest
        .strip_prefix("alpha")
        .or_else(|| rest.strip_prefix("beta"));
    match tail {
        None => rest.is_empty(),
        Some(t) => !t.is_empty() && !t.starts_with('0') && t.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// A stable version: `v1`, `v2`.
fn stable(version: &str) -> bool {
    released_form(version) && !version.contains("alpha") && !version.contains("beta")
}

/// The kind meant, if `kind` differs from one of `kinds` only in case or surrounding blanks.
fn near(kind: &str, kinds: &[&str]) -> Option<String> {
    let k = kind.trim();
    kinds
        .iter()
        .find(|c| c.eq_ignore_ascii_case(k))
        .map(|c| (*c).to_string())
}

impl Target {
    /// Whether some API may serve `kind` in `api_version` for this target; `Err` says why none
    /// can. Built-in groups are checked against `BUILT_IN`: a stable version (`v1`) for every
    /// target up to 1.37, as a stable version never loses a kind; any version for 1.37 itself.
    /// For a target newer than the table, only what no release can serve is caught.
    pub fn serves(&self, api_version: &str, kind: &str) -> Result<(), Unserved> {
        let unserved = |field: &'static str, why: String, meant: Option<String>| {
            Err(Unserved {
                field,
                why,
                meant: meant.map(|m| format!("{field}: {m}")),
                kubectl: format!("no matches for kind \"{kind}\" in version \"{api_version}\""),
            })
        };
        if api_version.is_empty() {
            // kubectl looks a kind without a version up in the core group.
            let meant = BUILT_IN
                .iter()
                .filter(|(_, v, k)| k.contains(&kind) && stable(v))
                .map(|(g, v, _)| {
                    if g.is_empty() {
                        (*v).to_string()
                    } else {
                        format!("{g}/{v}")
                    }
                })
                .next_back();
            return Err(Unserved {
                field: "apiVersion",
                why: format!(
                    "without an `apiVersion` kubectl looks `{kind}` up in the core group, which has no such kind"
                ),
                meant: meant.map(|m| format!("apiVersion: {m}")),
                kubectl: format!("no matches for kind \"{kind}\" in version \"\""),
            });
        }
        let Some((group, version)) = group_version(api_version) else {
            return Err(Unserved {
                field: "apiVersion",
                why: "an `apiVersion` is a group and a version with one `/` between them".into(),
                meant: None,
                kubectl: "Object 'Kind' is missing".into(),
            });
        };
        let trimmed = kind.trim();
        let whole_word = trimmed == kind
            && kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && kind.as_bytes().first().is_some_and(u8::is_ascii_alphabetic);
        if !whole_word {
            let meant = BUILT_IN
                .iter()
                .filter(|(g, v, _)| *g == group && *v == version)
                .find_map(|(_, _, kinds)| near(kind, kinds))
                .or_else(|| (trimmed != kind && !trimmed.is_empty()).then(|| trimmed.to_string()));
            return unserved(
                "kind",
                "a kind is a single word of letters and digits".into(),
                meant,
            );
        }
        if !dns_label(version) {
            let meant = dns_label(&version.to_ascii_lowercase()).then(|| {
                if group.is_empty() {
                    version.to_ascii_lowercase()
                } else {
                    format!("{group}/{}", version.to_ascii_lowercase())
                }
            });
            return unserved(
                "apiVersion",
                format!("`{version}` is not an API version (they are lower-case, like `v1`)"),
                meant,
            );
        }
        if !built_in_group(group) {
            if !dns_subdomain(group) {
                return unserved(
                    "apiVersion",
                    format!("`{group}` is not an API group name"),
                    None,
                );
            }
            if !group.contains('.') {
                return unserved(
                    "apiVersion",
                    format!(
                        "Kubernetes has no API group `{group}`, and a custom resource's group has a dot"
                    ),
                    (group == "core").then(|| version.to_string()),
                );
            }
            return Ok(());
        }
        // A built-in group.
        let known = |v: &str| BUILT_IN.iter().find(|(g, bv, _)| *g == group && *bv == v);
        let shown = if group.is_empty() {
            "the core group"
        } else {
            group
        };
        let kinds = known(version).map(|(_, _, kinds)| *kinds);
        if !kind.as_bytes()[0].is_ascii_uppercase() {
            let meant = kinds.and_then(|k| near(kind, k));
            if meant.is_some() && kind.bytes().all(|b| !b.is_ascii_uppercase()) {
                // kubectl's discovery mapper knows each kind in lower case too (`service`),
                // and the API server, whose kinds are exact, rejects the object.
                return Err(Unserved {
                    field: "kind",
                    why: format!(
                        "the kinds of {shown} start with a capital letter; kubectl maps the kind written in lower case, and the API server rejects the object"
                    ),
                    meant: meant.map(|m| format!("kind: {m}")),
                    kubectl: format!(
                        "no kind \"{kind}\" is registered for version \"{api_version}\""
                    ),
                });
            }
            return unserved(
                "kind",
                format!("the kinds of {shown} start with a capital letter"),
                meant,
            );
        }
        let checked = self.version <= NEWEST && (stable(version) || self.version == NEWEST);
        if !checked {
            return Ok(());
        }
        let Some(kinds) = kinds else {
            let newest = BUILT_IN
                .iter()
                .rfind(|(g, v, k)| *g == group && stable(v) && k.contains(&kind))
                .map(|(g, v, _)| {
                    if g.is_empty() {
                        (*v).to_string()
                    } else {
                        format!("{g}/{v}")
                    }
                });
            return unserved(
                "apiVersion",
                format!(
                    "{shown} has no version `{version}` in Kubernetes {}",
                    self.version
                ),
                newest,
            );
        };
        if kinds.contains(&kind) {
            return Ok(());
        }
        let meant = near(kind, kinds).or_else(|| {
            // The kind's stable version, in this group or another.
            let stable = BUILT_IN
                .iter()
                .filter(|(_, v, k)| k.contains(&kind) && stable(v));
            stable
                .clone()
                .find(|(g, _, _)| *g == group)
                .or_else(|| stable.clone().next_back())
                .map(|(g, v, _)| {
                    if g.is_empty() {
                        (*v).to_string()
                    } else {
                        format!("{g}/{v}")
                    }
                })
        });
        let field = if kinds.iter().any(|k| k.eq_ignore_ascii_case(kind)) {
            "kind"
        } else if meant.is_some() {
            "apiVersion"
        } else {
            "kind"
        };
        unserved(
            field,
            format!(
                "{shown} `{version}` has no kind `{kind}` in Kubernetes {}",
                self.version
            ),
            meant,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(minor: u32) -> Target {
        Target {
            version: super::super::Version { minor },
            gates: Vec::new(),
        }
    }

    #[test]
    fn kinds_and_versions_kubectl_cannot_map_are_unserved() {
        let t = Target::default();
        assert_eq!(t.serves("v1", "Service"), Ok(()));
        assert_eq!(t.serves("networking.k8s.io/v1", "NetworkPolicy"), Ok(()));
        let e = t.serves("v1", "service").expect_err("lower case");
        assert_eq!(
            (e.field, e.meant.as_deref()),
            ("kind", Some("kind: Service"))
        );
        assert_eq!(
            e.kubectl, "no kind \"service\" is registered for version \"v1\"",
            "kubectl maps it; the API server rejects it"
        );
        let e = t.serves("v1", "sERVICE").expect_err("mixed case");
        assert_eq!(
            e.kubectl,
            "no matches for kind \"sERVICE\" in version \"v1\""
        );
        let e = t.serves("v1", "Service ").expect_err("blank");
        assert_eq!(
            (e.field, e.meant.as_deref()),
            ("kind", Some("kind: Service"))
        );
        let e = t.serves("core/v1", "Service").expect_err("no group core");
        assert_eq!(
            (e.field, e.meant.as_deref()),
            ("apiVersion", Some("apiVersion: v1"))
        );
        let e = t.serves("v1", "Deployment").expect_err("not core");
        assert_eq!(e.meant.as_deref(), Some("apiVersion: apps/v1"));
        assert!(t.serves("apps/v2", "Deployment").is_err());
        assert!(t.serves("apps/v1", "Deploymnet").is_err());
        assert!(t.serves("V1", "Service").is_err());
        assert!(t.serves("apps/v1/x", "Deployment").is_err());
    }

    #[test]
    fn custom_resources_are_served_unless_no_api_could_serve_them() {
        let t = Target::default();
        assert_eq!(t.serves("example.com/v1", "Widget"), Ok(()));
        assert_eq!(t.serves("example.com/v1", "widget"), Ok(()));
        assert!(t.serves("example.com/v1", "Wid get").is_err());
        assert!(t.serves("Example.com/v1", "Widget").is_err());
    }

    #[test]
    fn older_and_newer_targets_are_checked_only_where_the_table_holds() {
        // A beta version 1.30 may serve and 1.37 does not: not judged for 1.30.
        assert_eq!(
            target(30).serves("resource.k8s.io/v1alpha2", "ResourceClaim"),
            Ok(())
        );
        assert!(
            Target::default()
                .serves("resource.k8s.io/v1alpha2", "ResourceClaim")
                .is_err()
        );
        // A stable version never loses a kind.
        assert!(target(30).serves("v1", "Servce").is_err());
        // A newer release may add kinds.
        assert_eq!(target(40).serves("networking.k8s.io/v1", "NewKind"), Ok(()));
        assert!(target(40).serves("v1", "service").is_err());
    }

    #[test]
    fn the_table_is_sorted_and_names_each_group_version_once() {
        for w in BUILT_IN.windows(2) {
            assert!(w[0].0 <= w[1].0, "{} after {}", w[1].0, w[0].0);
            assert!((w[0].0, w[0].1) != (w[1].0, w[1].1));
        }
    }
}
