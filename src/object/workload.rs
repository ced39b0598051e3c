//! Workloads: the pods an object with a pod template runs, and the labels their controllers add
//! to those pods, which Service and policy selectors see as much as the template's own:
//!
//! | controller | labels it adds |
//! | --- | --- |
//! | Deployment, ReplicaSet | `pod-template-hash` (a hash) |
//! | StatefulSet | `statefulset.kubernetes.io/pod-name` = `<name>-<i>`, `apps.kubernetes.io/pod-index` = `<i>` for `i < replicas`, `controller-revision-hash` (a hash) |
//! | DaemonSet | `controller-revision-hash`, `pod-template-generation` |
//! | Job | `job-name`, `batch.kubernetes.io/job-name` = its name, `controller-uid`, `batch.kubernetes.io/controller-uid` (a uid), and for an Indexed Job `batch.kubernetes.io/job-completion-index` = `<i>` |
//! | CronJob | its Jobs' labels: the Job's name is `<name>-<scheduled minute>` |
//!
//! A value no manifest shows (a hash, a uid, a scheduled time) is an unknown value: a selector
//! asking for it is assumed to match. StatefulSet replicas (from `spec.ordinals.start`) and
//! Indexed Job completions are pods of their own, up to `MAX_PODS`; past that their index labels
//! vary from pod to pod of one set, and a Service selecting one pod by them gets that pod
//! (`pin`).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::decoder::Decoder;
use crate::k8s::selector::PodLabels;
use crate::yaml::pointer::segments;
use crate::yaml::scalar::Typed;

/// Pods told apart one by one, at most.
pub const MAX_PODS: u32 = 32;

/// The controller of a workload's pods, and what it adds to their labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Controller {
    /// A bare Pod, a PodTemplate, a ReplicationController: nothing added.
    None,
    /// Deployment or ReplicaSet.
    ReplicaSet,
    StatefulSet {
        name: String,
        /// `spec.ordinals.start`: the first pod's ordinal.
        start: u32,
        replicas: u32,
    },
    DaemonSet,
    Job {
        name: String,
        /// `completions` of an Indexed Job.
        indexed: Option<u32>,
    },
    CronJob {
        name: String,
    },
}

/// An object that runs pods from a template.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The template's labels.
    pub labels: BTreeMap<String, String>,
    /// Pointer of the template's `metadata` below the object.
    pub pointer: String,
    pub controller: Controller,
    /// `hostNetwork: true`: no NetworkPolicy governs these pods.
    pub host_network: bool,
    /// `serviceAccountName` (Calico policies can select by it), default `default`.
    pub service_account: String,
    /// The containers' images (`quay.io/metallb/controller:v0.14.9`): what a controller's
    /// version is detected from.
    pub images: Vec<String>,
}

/// One set of pods of a workload that share their labels.
#[derive(Debug, Clone)]
pub struct Pods {
    pub labels: PodLabels,
    /// Which pod the set is, when it is one of several the workload runs.
    pub which: Option<Which>,
}

/// One pod of a workload that runs several, each with labels of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    /// A StatefulSet pod, by name.
    Pod(String),
    /// An Indexed Job's pod, by completion index.
    CompletionIndex(u32),
}

const HASHED: &[&str] = &["pod-template-hash"];
const DAEMON: &[&str] = &["controller-revision-hash", "pod-template-generation"];
const JOB_UID: &[&str] = &["controller-uid", "batch.kubernetes.io/controller-uid"];
const JOB_NAME: &[&str] = &["job-name", "batch.kubernetes.io/job-name"];
const POD_NAME: &str = "statefulset.kubernetes.io/pod-name";
const POD_INDEX: &str = "apps.kubernetes.io/pod-index";
const COMPLETION_INDEX: &str = "batch.kubernetes.io/job-completion-index";

/// Whether a label key is one a controller adds (a Service may select by it alone).
#[must_use]
pub fn is_controller_label(key: &str) -> bool {
    HASHED.contains(&key)
        || DAEMON.contains(&key)
        || JOB_UID.contains(&key)
        || JOB_NAME.contains(&key)
        || key == "controller-revision-hash"
        || [POD_NAME, POD_INDEX, COMPLETION_INDEX].contains(&key)
}

impl Workload {
    /// The sets of pods the workload runs, each with every label its pods carry.
    #[must_use]
    pub fn pods(&self) -> Vec<Pods> {
        let mut base = PodLabels::known(self.labels.clone());
        let unknown = |base: &mut PodLabels, keys: &[&str]| {
            for k in keys {
                if !base.known.contains_key(*k) {
                    base.unknown.insert((*k).to_string());
                }
            }
        };
        let varying = |base: &mut PodLabels, keys: &[&str]| {
            for k in keys {
                base.varying.insert((*k).to_string());
            }
        };
        let one = |labels| {
            vec![Pods {
                labels,
                which: None,
            }]
        };
        match &self.controller {
            Controller::None => one(base),
            Controller::ReplicaSet => {
                unknown(&mut base, HASHED);
                one(base)
            }
            Controller::DaemonSet => {
                unknown(&mut base, DAEMON);
                one(base)
            }
            Controller::CronJob { .. } => {
                unknown(&mut base, JOB_NAME);
                unknown(&mut base, JOB_UID);
                one(base)
            }
            Controller::StatefulSet {
                name,
                start,
                replicas,
            } => {
                unknown(&mut base, &["controller-revision-hash"]);
                // Scaled to zero (an autoscaler or an operator scales it up), or too many to
                // tell apart: one set whose pod labels vary.
                if *replicas == 0 || *replicas > MAX_PODS || name.is_empty() {
                    varying(&mut base, &[POD_NAME, POD_INDEX]);
                    return one(base);
                }
                (*start..start.saturating_add(*replicas))
                    .map(|i| {
                        let pod = format!("{name}-{i}");
                        let mut labels = base.clone();
                        labels.known.insert(POD_NAME.into(), pod.clone());
                        labels.known.insert(POD_INDEX.into(), i.to_string());
                        Pods {
                            labels,
                            which: Some(Which::Pod(pod)),
                        }
                    })
                    .collect()
            }
            Controller::Job { name, indexed } => {
                unknown(&mut base, JOB_UID);
                if name.is_empty() {
                    unknown(&mut base, JOB_NAME);
                } else {
                    for k in JOB_NAME {
                        base.known
                            .entry((*k).to_string())
                            .or_insert_with(|| name.clone());
                    }
                }
                match indexed {
                    Some(n) if *n <= MAX_PODS => (0..*n)
                        .map(|i| {
                            let mut labels = base.clone();
                            labels.known.insert(COMPLETION_INDEX.into(), i.to_string());
                            Pods {
                                labels,
                                which: Some(Which::CompletionIndex(i)),
                            }
                        })
                        .collect(),
                    Some(_) => {
                        varying(&mut base, &[COMPLETION_INDEX]);
                        one(base)
                    }
                    None => one(base),
                }
            }
        }
    }
}

impl Workload {
    /// Narrows `pods` to the pods a Service selector asks for by labels whose value the
    /// manifests do not show: a value that differs per pod (a large StatefulSet's pod name)
    /// picks that pod, if the workload runs it; a value no manifest shows is taken to be the one
    /// asked for, so later checks see the same value. `None` when no pod of the set can carry
    /// the values asked for; otherwise the first label whose value was assumed, if any.
    #[must_use]
    pub fn pin(
        &self,
        pods: &mut Pods,
        selector: &BTreeMap<String, String>,
    ) -> Option<Option<String>> {
        let mut assumed = None;
        for (k, v) in selector {
            let labels = &mut pods.labels;
            if labels.varying.contains(k) {
                for (key, value) in self.identity(k, v)? {
                    if labels.known.get(key).is_some_and(|have| *have != value) {
                        return None;
                    }
                    labels.varying.remove(key);
                    match key {
                        POD_NAME => pods.which = Some(Which::Pod(value.clone())),
                        COMPLETION_INDEX => {
                            pods.which = value.parse().ok().map(Which::CompletionIndex);
                        }
                        _ => {}
                    }
                    labels.known.insert(key.to_string(), value);
                }
            } else if labels.unknown.contains(k) {
                if !self.may_carry(k, v) {
                    return None;
                }
                labels.unknown.remove(k);
                labels.known.insert(k.clone(), v.clone());
                assumed.get_or_insert_with(|| k.clone());
            }
        }
        Some(assumed)
    }

    /// The per-pod labels of the one pod whose label `key` is `value`, if the workload runs it.
    fn identity(&self, key: &str, value: &str) -> Option<Vec<(&'static str, String)>> {
        let ordinal = |s: &str| -> Option<u32> {
            (!s.is_empty()
                && s.bytes().all(|b| b.is_ascii_digit())
                && (s == "0" || !s.starts_with('0')))
            .then(|| s.parse().ok())
            .flatten()
        };
        match &self.controller {
            Controller::StatefulSet {
                name,
                start,
                replicas,
            } => {
                let i = match key {
                    POD_NAME => ordinal(value.strip_prefix(name.as_str())?.strip_prefix('-')?)?,
                    POD_INDEX => ordinal(value)?,
                    _ => return None,
                };
                // With zero replicas any ordinal may come to run.
                (i >= *start && (*replicas == 0 || i - start < *replicas)).then(|| {
                    vec![
                        (POD_NAME, format!("{name}-{i}")),
                        (POD_INDEX, i.to_string()),
                    ]
                })
            }
            Controller::Job {
                indexed: Some(n), ..
            } if key == COMPLETION_INDEX => {
                let i = ordinal(value)?;
                (i < *n).then(|| vec![(COMPLETION_INDEX, i.to_string())])
            }
            _ => None,
        }
    }

    /// Whether the pods can carry `value` for a label whose value no manifest shows: a CronJob's
    /// Jobs are named `<cronjob>-<scheduled minute>`; hashes and uids may be anything.
    fn may_carry(&self, key: &str, value: &str) -> bool {
        match &self.controller {
            Controller::CronJob { name } if JOB_NAME.contains(&key) => value
                .strip_prefix(name.as_str())
                .and_then(|r| r.strip_prefix('-'))
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())),
            _ => true,
        }
    }
}

/// Reads the workload of an object of `kind` whose pod template's metadata is at `path`; a
/// template whose metadata does not decode is a problem, and no workload.
pub(super) fn read(cx: &mut Decoder<'_>, kind: &str, path: &str) -> Option<Workload> {
    let tree = cx.tree;
    let segs = segments(path);
    let labels = if tree.lookup(cx.node, &segs).2 == segs.len() {
        cx.decode::<ObjectMeta>(path)?.labels.unwrap_or_default()
    } else {
        BTreeMap::new()
    };
    // The pod spec beside the template's metadata.
    let spec = format!("{}/spec", path.trim_end_matches("/metadata"));
    let at = |field: &str| {
        let p = segments(&spec)
            .into_iter()
            .map(std::borrow::Cow::into_owned)
            .chain(field.split('/').map(String::from))
            .collect::<Vec<_>>();
        let (n, _, depth) = tree.lookup(cx.node, &p);
        (depth == p.len()).then(|| tree.typed(n)).flatten()
    };
    let object = |field: &str| {
        let p: Vec<&str> = field.split('/').collect();
        let (n, _, depth) = tree.lookup(cx.node, &p);
        (depth == p.len()).then(|| tree.typed(n)).flatten()
    };
    let count = |t: Option<Typed<'_>>, default: u32| match t {
        Some(Typed::Int(i)) => u32::try_from(i).unwrap_or(0),
        _ => default,
    };
    let name = cx.id.name.clone();
    let controller = match kind {
        "Deployment" | "ReplicaSet" => Controller::ReplicaSet,
        "DaemonSet" => Controller::DaemonSet,
        "StatefulSet" => Controller::StatefulSet {
            name,
            start: count(object("spec/ordinals/start"), 0),
            replicas: count(object("spec/replicas"), 1),
        },
        "Job" => Controller::Job {
            name,
            indexed: matches!(object("spec/completionMode"), Some(Typed::Str("Indexed")))
                .then(|| count(object("spec/completions"), 1)),
        },
        "CronJob" => Controller::CronJob { name },
        _ => Controller::None,
    };
    let service_account = [at("serviceAccountName"), at("serviceAccount")]
        .into_iter()
        .find_map(|t| match t {
            Some(Typed::Str(s)) if !s.is_empty() => Some(s.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| "default".into());
    // The pod spec is not decoded; its one field read here is checked as the API server would.
    let host_network = match at("hostNetwork") {
        None | Some(Typed::Null) => false,
        Some(Typed::Bool(b)) => b,
        Some(_) => {
            cx.problem_at(
                &format!("{spec}/hostNetwork"),
                "cannot be decoded at `hostNetwork`: expected a boolean (`true` or `false`, unquoted); the API server rejects it and it is not counted",
            );
            return None;
        }
    };
    let containers: Vec<String> = segments(&spec)
        .into_iter()
        .map(std::borrow::Cow::into_owned)
        .chain(["containers".to_string()])
        .collect();
    let (list, _, depth) = tree.lookup(cx.node, &containers);
    let images = if depth == containers.len() {
        tree.items(list)
            .iter()
            .filter_map(|&c| tree.get(c, "image").and_then(|(_, v)| tree.scalar(v)))
            .map(str::to_string)
            .collect()
    } else {
        Vec::new()
    };
    Some(Workload {
        labels,
        pointer: path.to_string(),
        controller,
        host_network,
        service_account,
        images,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(controller: Controller) -> Workload {
        Workload {
            labels: [("app".to_string(), "db".to_string())].into(),
            pointer: "/spec/template/metadata".into(),
            controller,
            host_network: false,
            service_account: "default".into(),
            images: Vec::new(),
        }
    }

    #[test]
    fn statefulset_replicas_are_pods_with_their_name_and_index() {
        let pods = workload(Controller::StatefulSet {
            name: "db".into(),
            start: 0,
            replicas: 3,
        })
        .pods();
        assert_eq!(pods.len(), 3);
        assert_eq!(
            pods[2].labels.known.get(POD_NAME).map(String::as_str),
            Some("db-2")
        );
        assert_eq!(
            pods[2].labels.known.get(POD_INDEX).map(String::as_str),
            Some("2")
        );
        assert!(pods[0].labels.unknown.contains("controller-revision-hash"));
    }

    #[test]
    fn hashes_and_uids_are_unknown_values() {
        let d = workload(Controller::ReplicaSet).pods();
        assert!(d[0].labels.unknown.contains("pod-template-hash"));
        let j = workload(Controller::Job {
            name: "migrate".into(),
            indexed: Some(2),
        })
        .pods();
        assert_eq!(j.len(), 2);
        assert_eq!(
            j[1].labels.known.get("job-name").map(String::as_str),
            Some("migrate")
        );
        assert_eq!(
            j[1].labels.known.get(COMPLETION_INDEX).map(String::as_str),
            Some("1")
        );
        assert!(
            j[0].labels
                .unknown
                .contains("batch.kubernetes.io/controller-uid")
        );
        let c = workload(Controller::CronJob { name: "c".into() }).pods();
        assert!(c[0].labels.unknown.contains("job-name"));
    }
}
