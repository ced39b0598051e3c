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
//! asking for it is assumed to match. StatefulSet replicas and Indexed Job completions are pods
//! of their own, up to `MAX_PODS`; past that their index labels are unknown values too.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::classify::Decoder;
use crate::selector::PodLabels;
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
        replicas: u32,
    },
    DaemonSet,
    Job {
        name: String,
        /// `completions` of an Indexed Job.
        indexed: Option<u32>,
    },
    CronJob,
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
}

/// One set of pods of a workload that share their labels.
#[derive(Debug, Clone)]
pub struct Pods {
    pub labels: PodLabels,
    /// The pod's name, when the set is one pod of a StatefulSet.
    pub name: Option<String>,
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
        let one = |labels| vec![Pods { labels, name: None }];
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
            Controller::CronJob => {
                unknown(&mut base, JOB_NAME);
                unknown(&mut base, JOB_UID);
                one(base)
            }
            Controller::StatefulSet { name, replicas } => {
                unknown(&mut base, &["controller-revision-hash"]);
                if *replicas > MAX_PODS || name.is_empty() {
                    unknown(&mut base, &[POD_NAME, POD_INDEX]);
                    return one(base);
                }
                (0..*replicas)
                    .map(|i| {
                        let pod = format!("{name}-{i}");
                        let mut labels = base.clone();
                        labels.known.insert(POD_NAME.into(), pod.clone());
                        labels.known.insert(POD_INDEX.into(), i.to_string());
                        Pods {
                            labels,
                            name: Some(pod),
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
                            Pods { labels, name: None }
                        })
                        .collect(),
                    Some(_) => {
                        unknown(&mut base, &[COMPLETION_INDEX]);
                        one(base)
                    }
                    None => one(base),
                }
            }
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
            replicas: count(object("spec/replicas"), 1),
        },
        "Job" => Controller::Job {
            name,
            indexed: matches!(object("spec/completionMode"), Some(Typed::Str("Indexed")))
                .then(|| count(object("spec/completions"), 1)),
        },
        "CronJob" => Controller::CronJob,
        _ => Controller::None,
    };
    let service_account = [at("serviceAccountName"), at("serviceAccount")]
        .into_iter()
        .find_map(|t| match t {
            Some(Typed::Str(s)) if !s.is_empty() => Some(s.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| "default".into());
    Some(Workload {
        labels,
        pointer: path.to_string(),
        controller,
        host_network: matches!(at("hostNetwork"), Some(Typed::Bool(true))),
        service_account,
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
        }
    }

    #[test]
    fn statefulset_replicas_are_pods_with_their_name_and_index() {
        let pods = workload(Controller::StatefulSet {
            name: "db".into(),
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
        let c = workload(Controller::CronJob).pods();
        assert!(c[0].labels.unknown.contains("job-name"));
    }
}
