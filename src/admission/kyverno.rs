//! `--generate kyverno-policy`: a Kyverno `ClusterPolicy` whose one rule validates Services with
//! CEL (`validate.cel`: `variables` and `expressions`), the same CEL as the
//! ValidatingAdmissionPolicy (`super::cel`), so the two cannot drift apart. Kyverno's CEL
//! environment is the Kubernetes one (its IP and CIDR library included, from Kyverno 1.13, built
//! on the Kubernetes 1.31 libraries); the rule-level `failureAction` is Kyverno 1.13's too.

use std::fmt::Write as _;

use super::{PolicyOptions, cel, header};

/// The `ClusterPolicy`, or why none can be generated for the target (the same refusals as the
/// ValidatingAdmissionPolicy's).
pub fn policy(o: &PolicyOptions<'_>) -> Result<String, String> {
    let cel = cel(o)?;
    let mut out = header(o, " (Kyverno 1.13 or later)");
    let action = if o.deny { "Enforce" } else { "Audit" };
    out.push_str(
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: extip-lint-service-addresses\n  annotations:\n    policies.kyverno.io/title: Service addresses (extip-lint EXT002, EXT004)\n    policies.kyverno.io/category: extip-lint\n    policies.kyverno.io/subject: Service\nspec:\n  # Admission only, as the ValidatingAdmissionPolicy: a background scan has no old object, so it\n  # would report addresses that updates leave alone.\n  background: false\n  rules:\n    - name: service-addresses\n      match:\n        any:\n          - resources:\n              kinds: [\"Service\"]\n              operations: [\"CREATE\", \"UPDATE\"]\n      validate:\n",
    );
    let _ = writeln!(
        out,
        "        # Audit first (a policy report entry); generate with --deny to reject.\n        failureAction: {action}\n        cel:\n          variables:"
    );
    cel.write(&mut out, "          ", "expressions");
    Ok(out)
}
