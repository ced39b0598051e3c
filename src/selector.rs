//! Label selectors as Kubernetes evaluates them: `matchLabels` AND every `matchExpressions`
//! requirement; `NotIn` and `DoesNotExist` hold when the key is absent; an empty selector selects
//! everything. See
//! <https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#resources-that-support-set-based-requirements>.

use std::collections::BTreeMap;
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

/// Whether `sel` selects a pod with `labels`. Assumes `validate` passed.
#[must_use]
pub fn matches(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    sel.match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v))
        && sel.match_expressions.iter().flatten().all(|e| {
            requirement_holds(
                &e.key,
                &e.operator,
                e.values.as_deref().unwrap_or_default(),
                labels,
            )
        })
}

fn requirement_holds(
    key: &str,
    op: &str,
    values: &[String],
    labels: &BTreeMap<String, String>,
) -> bool {
    let have = labels.get(key);
    match op {
        "In" => have.is_some_and(|h| values.contains(h)),
        "NotIn" => have.is_none_or(|h| !values.contains(h)),
        "Exists" => have.is_some(),
        "DoesNotExist" => have.is_none(),
        _ => false,
    }
}

/// The first requirement of `sel` that `labels` fails, described for people.
#[must_use]
pub fn first_mismatch(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> Option<String> {
    for (k, v) in sel.match_labels.iter().flatten() {
        if labels.get(k) != Some(v) {
            return Some(format!("{k}={v}"));
        }
    }
    for e in sel.match_expressions.iter().flatten() {
        let values = e.values.as_deref().unwrap_or_default();
        if !requirement_holds(&e.key, &e.operator, values, labels) {
            return Some(describe_expression(&e.key, &e.operator, values));
        }
    }
    None
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

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
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
