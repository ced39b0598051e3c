//! Label selectors as Kubernetes evaluates them: `matchLabels` AND every `matchExpressions`
//! requirement; `NotIn` and `DoesNotExist` hold when the key is absent; an empty selector selects
//! everything. See
//! <https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#resources-that-support-set-based-requirements>.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Checks a selector the way the API server validates it. On failure returns the message and
/// the index of the offending `matchExpressions` entry.
pub fn validate(sel: &LabelSelector) -> Result<(), (String, usize)> {
    for (i, e) in sel.match_expressions.iter().flatten().enumerate() {
        let n = e.values.as_ref().map_or(0, Vec::len);
        match e.operator.as_str() {
            "In" | "NotIn" if n == 0 => {
                return Err((
                    format!(
                        "operator `{}` on key `{}` needs at least one value",
                        e.operator, e.key
                    ),
                    i,
                ));
            }
            "Exists" | "DoesNotExist" if n > 0 => {
                return Err((
                    format!(
                        "operator `{}` on key `{}` must not have values",
                        e.operator, e.key
                    ),
                    i,
                ));
            }
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            op => {
                return Err((
                    format!(
                        "unknown operator `{op}` on key `{}` (use In, NotIn, Exists or DoesNotExist)",
                        e.key
                    ),
                    i,
                ));
            }
        }
    }
    Ok(())
}

/// The labels of a set of pods as far as the manifests tell: the values they carry, the keys a
/// controller adds with one value no manifest shows (`pod-template-hash`, `controller-uid`),
/// which any requirement on the value is assumed to meet, and the keys whose value differs from
/// pod to pod of the set (`statefulset.kubernetes.io/pod-name` of a large StatefulSet), which a
/// requirement on the value meets for some of the pods only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodLabels {
    pub known: BTreeMap<String, String>,
    pub unknown: BTreeSet<String>,
    pub varying: BTreeSet<String>,
}

impl PodLabels {
    /// Labels that are all known.
    #[must_use]
    pub fn known(known: BTreeMap<String, String>) -> Self {
        PodLabels {
            known,
            unknown: BTreeSet::new(),
            varying: BTreeSet::new(),
        }
    }

    /// The value of `key`: known, present with a value no manifest shows, different per pod, or
    /// absent.
    #[must_use]
    pub fn get(&self, key: &str) -> Label<'_> {
        match self.known.get(key) {
            Some(v) => Label::Is(v),
            None if self.unknown.contains(key) => Label::Unknown,
            None if self.varying.contains(key) => Label::Varies,
            None => Label::Absent,
        }
    }
}

/// One label of a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label<'a> {
    Is(&'a str),
    /// Present, with a value no manifest shows.
    Unknown,
    /// Present, with a different value on each pod of the set.
    Varies,
    Absent,
}

/// Whether a selector selects a set of pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fit {
    Yes,
    /// Only if a label whose value no manifest shows has the value asked for (the key).
    Assumed(String),
    /// No: the first requirement that fails, described for people.
    No(String),
}

impl Fit {
    #[must_use]
    pub fn selects(&self) -> bool {
        !matches!(self, Fit::No(_))
    }
}

/// Whether `sel` selects pods with `labels`. Assumes `validate` passed.
#[must_use]
pub fn fit(sel: &LabelSelector, labels: &PodLabels) -> Fit {
    let mut assumed = None;
    let pairs = sel
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), "In", std::slice::from_ref(v)));
    let exprs = sel.match_expressions.iter().flatten().map(|e| {
        (
            e.key.as_str(),
            e.operator.as_str(),
            e.values.as_deref().unwrap_or_default(),
        )
    });
    for (key, op, values) in pairs.chain(exprs) {
        match requirement(key, op, values, labels) {
            Some(true) => {}
            None => {
                assumed.get_or_insert_with(|| key.to_string());
            }
            Some(false) => {
                let described = if op == "In"
                    && sel.match_labels.iter().flatten().any(|(k, _)| k == key)
                    && values.len() == 1
                {
                    format!("{key}={}", values[0])
                } else {
                    describe_expression(key, op, values)
                };
                return Fit::No(described);
            }
        }
    }
    assumed.map_or(Fit::Yes, Fit::Assumed)
}

/// Whether `sel` selects pods with `labels` (assumed matches count).
#[must_use]
pub fn matches(sel: &LabelSelector, labels: &PodLabels) -> bool {
    fit(sel, labels).selects()
}

/// Whether one requirement holds: `None` when it depends on a value no manifest shows.
fn requirement(key: &str, op: &str, values: &[String], labels: &PodLabels) -> Option<bool> {
    let have = match labels.get(key) {
        Label::Is(v) => Some(v),
        Label::Absent => None,
        Label::Unknown => {
            return match op {
                "Exists" => Some(true),
                "DoesNotExist" => Some(false),
                _ => None,
            };
        }
        // A requirement on a value that differs per pod holds for some of the pods at most.
        Label::Varies => return Some(op == "Exists"),
    };
    Some(match op {
        "In" => have.is_some_and(|h| values.iter().any(|v| v == h)),
        "NotIn" => have.is_none_or(|h| !values.iter().any(|v| v == h)),
        "Exists" => have.is_some(),
        "DoesNotExist" => have.is_none(),
        _ => false,
    })
}

/// The first requirement of `sel` that `labels` fails, described for people.
#[must_use]
pub fn first_mismatch(sel: &LabelSelector, labels: &PodLabels) -> Option<String> {
    match fit(sel, labels) {
        Fit::No(m) => Some(m),
        Fit::Yes | Fit::Assumed(_) => None,
    }
}

fn describe_expression(key: &str, op: &str, values: &[String]) -> String {
    match op {
        "In" => format!("{key} in ({})", values.join(",")),
        "NotIn" => format!("{key} notin ({})", values.join(",")),
        "Exists" => key.to_string(),
        "DoesNotExist" => format!("!{key}"),
        _ => format!("{key} {op}"),
    }
}

/// The selector in kubectl's notation (`app=web,tier in (a,b)`), `{}` when empty.
#[must_use]
pub fn describe(sel: &LabelSelector) -> String {
    let mut out = String::new();
    for (k, v) in sel.match_labels.iter().flatten() {
        let _ = write!(out, "{}{k}={v}", if out.is_empty() { "" } else { "," });
    }
    for e in sel.match_expressions.iter().flatten() {
        let d = describe_expression(&e.key, &e.operator, e.values.as_deref().unwrap_or_default());
        let _ = write!(out, "{}{d}", if out.is_empty() { "" } else { "," });
    }
    if out.is_empty() { "{}".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> PodLabels {
        PodLabels::known(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        )
    }

    fn expr(key: &str, op: &str, values: &[&str]) -> LabelSelector {
        LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: key.into(),
                operator: op.into(),
                values: (!values.is_empty())
                    .then(|| values.iter().map(|v| (*v).to_string()).collect()),
            }]),
            ..Default::default()
        }
    }

    #[test]
    fn empty_selector_selects_everything() {
        assert!(matches(&LabelSelector::default(), &labels(&[])));
    }

    #[test]
    fn not_in_holds_when_the_key_is_absent() {
        assert!(matches(
            &expr("tier", "NotIn", &["db"]),
            &labels(&[("app", "x")])
        ));
        assert!(!matches(
            &expr("tier", "NotIn", &["db"]),
            &labels(&[("tier", "db")])
        ));
    }

    #[test]
    fn invalid_operators_are_rejected() {
        assert!(validate(&expr("a", "Equals", &["x"])).is_err());
        assert!(validate(&expr("a", "In", &[])).is_err());
        assert!(validate(&expr("a", "Exists", &["x"])).is_err());
        assert!(validate(&expr("a", "DoesNotExist", &[])).is_ok());
    }

    #[test]
    fn a_value_no_manifest_shows_is_assumed_to_match_but_exists() {
        let mut pod = labels(&[("app", "web")]);
        pod.unknown.insert("pod-template-hash".into());
        assert_eq!(
            fit(&expr("pod-template-hash", "In", &["abc"]), &pod),
            Fit::Assumed("pod-template-hash".into())
        );
        assert_eq!(
            fit(&expr("pod-template-hash", "Exists", &[]), &pod),
            Fit::Yes
        );
        assert!(!matches(
            &expr("pod-template-hash", "DoesNotExist", &[]),
            &pod
        ));
    }

    #[test]
    fn mismatch_is_described() {
        let sel = LabelSelector {
            match_labels: Some([("tier".to_string(), "backend".to_string())].into()),
            ..Default::default()
        };
        assert_eq!(
            first_mismatch(&sel, &labels(&[("tier", "web")])).as_deref(),
            Some("tier=backend")
        );
    }
}
