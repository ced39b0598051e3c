//! EXT001 external-ips-in-cloud: externalIPs where a managed cloud offers `LoadBalancer` Services.

use super::{At, Check, Draft, Rule, RuleContext, services};
use crate::config::Profile;
use crate::finding::{Finding, Label, Message, RuleMeta, Severity};

pub static RULE: Rule = Rule {
    meta: RuleMeta {
        code: "EXT001",
        name: "external-ips-in-cloud",
        since: "0.1.0",
        summary: "Service sets spec.externalIPs in a cloud profile, where a LoadBalancer Service is the safer way in",
        default_severity: Severity::Error,
        docs: include_str!("../../rules/EXT001-external-ips-in-cloud.md"),
        security_severity: "7.5",
        tags: &["security", "kubernetes", "networking", "CVE-2020-8554"],
    },
    check: Check::Cluster(check),
};

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    if cx.profile.profile != Profile::Cloud {
        return;
    }
    for (obj, _, ips) in services(cx) {
        if ips.is_empty() {
            continue;
        }
        let list = ips
            .iter()
            .map(|ip| format!("`{ip}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut message = Message::from(format!(
            "Service `{}` sets externalIPs ({list}) although the profile is cloud (",
            obj.id.qualified_name(),
        ));
        // The deciding object briefly; the summary and the related label say the rest.
        match &cx.profile.decided_by {
            Some(by) => message.push_str(&format!("auto, from {by}")),
            None => message.append(&cx.profile.reason),
        }
        message.push_str(")");
        let mut f = Draft {
            object: obj,
            path: "/spec/externalIPs",
            at: At::Key,
            label: "externalIPs in a cloud profile",
            message,
            help: "Use `type: LoadBalancer` and let the provider allocate the address; for a fixed address, reserve it with the provider's annotation (AWS `service.beta.kubernetes.io/aws-load-balancer-eip-allocations`, GKE `networking.gke.io/load-balancer-ip-addresses`, AKS `service.beta.kubernetes.io/azure-pip-name`).",
        }
        .finding(&RULE.meta);
        if let Some(span) = cx.profile.evidence {
            f.related
                .push(Label::new(span, "this made the profile cloud"));
        }
        f.notes.push(if cx.profile.decided_by.is_some() {
            "the profile is `auto`, decided by the cloud signals of this cluster (files under vendor/, examples/ and provider-specific folders do not count); if the cluster is not in a cloud, set `profile: on-prem` in the config or pass `--profile on-prem`".to_string()
        } else {
            "the profile is set to cloud; if the cluster is not in a cloud, set `profile: on-prem` in the config or pass `--profile on-prem`".to_string()
        });
        out.push(f);
    }
}
