//! The config file's values, each read from its node with the error at that node: the
//! profile, the allowlist, versions and gates, the load balancer, globs and clusters.

use super::{
    AllowEntry, ClusterConfig, ConfigIssue, DEFAULT_CLUSTER, Error, Gate, GateSetting, Glob,
    GlobSet, GlobSetBuilder, Implementation, NodeId, NodeKind, Profile, Reader, ValueSource,
    Version, address, did_you_mean, unknown_key,
};

impl Reader<'_> {
    pub(super) fn profile(&self, v: NodeId) -> Result<Profile, Error> {
        let s = self.string(v, "profile")?;
        Profile::parse(&s).ok_or_else(|| {
            self.err(
                v,
                format!("unknown profile `{s}`"),
                "unknown profile",
                Some(format!(
                    "{}use one of: cloud, on-prem, auto (or eks, gke, aks, bare-metal)",
                    did_you_mean(
                        &s,
                        &[
                            "cloud",
                            "on-prem",
                            "auto",
                            "eks",
                            "gke",
                            "aks",
                            "bare-metal"
                        ]
                    )
                )),
            )
        })
    }

    /// `external-ips: {allow: [...]}`: the allowlist; a CIDR with host bits set is a warning.
    pub(super) fn allow(
        &self,
        v: NodeId,
        what: &str,
        warnings: &mut Vec<ConfigIssue>,
    ) -> Result<Vec<AllowEntry>, Error> {
        let mut out = Vec::new();
        for (key, k, v) in self.mapping(v, what)? {
            if key != "allow" {
                self.keep::<()>(Err(unknown_key(self, &key, k, &["allow"])));
                continue;
            }
            let Some(items) = self.keep(self.strings(v, &format!("{what}.allow"))) else {
                continue;
            };
            for (text, node) in items {
                let Some((entry, host_bits)) = self.keep(address::parse_cidr(&text).map_err(|m| {
                    self.err(
                        node,
                        m,
                        "invalid CIDR",
                        Some(
                            "write an address (192.0.2.7) or a CIDR (192.0.2.0/24, 2001:db8::/32)"
                                .into(),
                        ),
                    )
                })) else {
                    continue;
                };
                if host_bits {
                    let mut w = self.issue(
                        node,
                        format!("`{text}` has host bits set; it is read as `{entry}`"),
                        "host bits set",
                        Some(format!("write `{entry}` to say what you mean")),
                    );
                    w.severity = miette::Severity::Warning;
                    warnings.push(w);
                }
                out.push(AllowEntry {
                    net: entry,
                    text,
                    source: self.source(node),
                });
            }
        }
        Ok(out)
    }

    /// `kubernetes-version: "1.36"`.
    pub(super) fn version(&self, v: NodeId) -> Result<(Version, ValueSource), Error> {
        let s = self.string(v, "kubernetes-version")?;
        let version =
            Version::parse(&s).map_err(|m| self.err(v, m, "not a Kubernetes version", None))?;
        Ok((version, self.source(v)))
    }

    /// `load-balancer: metallb|cilium|kube-vip|calico|gateway|manual|auto`.
    pub(super) fn load_balancer(
        &self,
        v: NodeId,
    ) -> Result<(Option<Implementation>, ValueSource), Error> {
        let s = self.string(v, "load-balancer")?;
        if s == "auto" {
            return Ok((None, self.source(v)));
        }
        let i = Implementation::parse(&s).ok_or_else(|| {
            let known: Vec<&str> = Implementation::ALL.iter().map(|i| i.key()).collect();
            self.err(
                v,
                format!("unknown load-balancer implementation `{s}`"),
                "unknown implementation",
                Some(format!(
                    "{}use one of: {}, auto",
                    did_you_mean(&s, &known),
                    known.join(", ")
                )),
            )
        })?;
        Ok((Some(i), self.source(v)))
    }

    /// `feature-gates: {AllowServiceExternalIPs: false}`.
    pub(super) fn gates(&self, v: NodeId) -> Result<Vec<GateSetting>, Error> {
        let mut out = Vec::new();
        for (key, k, v) in self.mapping(v, "feature-gates")? {
            let Some(gate) = Gate::parse(&key) else {
                let known: Vec<&str> = Gate::ALL.iter().map(|g| g.name()).collect();
                self.keep::<()>(Err(self.err(
                    k,
                    format!("unknown feature gate `{key}`"),
                    "unknown feature gate",
                    Some(format!(
                        "{}extip-lint knows the gates that change its verdicts: {}",
                        did_you_mean(&key, &known),
                        known.join(", ")
                    )),
                )));
                continue;
            };
            let Some(value) = self.keep(self.string(v, &key)) else {
                continue;
            };
            let on = match value.as_str() {
                "true" => true,
                "false" => false,
                other => {
                    self.keep::<()>(Err(self.err(
                        v,
                        format!("`{key}` must be true or false, not `{other}`"),
                        "not a boolean",
                        None,
                    )));
                    continue;
                }
            };
            out.push(GateSetting {
                gate,
                on,
                source: self.source(k),
            });
        }
        Ok(out)
    }

    /// A list of globs, relative to the config file's folder, and the patterns as written.
    pub(super) fn globs(&self, v: NodeId, what: &str) -> Result<(GlobSet, Vec<String>), Error> {
        let mut b = GlobSetBuilder::new();
        let mut patterns = Vec::new();
        for (g, node) in self.strings(v, what)? {
            let glob = Glob::new(&g).map_err(|e| {
                self.err(
                    node,
                    format!("invalid glob `{g}`: {}", e.kind()),
                    "invalid glob",
                    None,
                )
            })?;
            b.add(glob);
            patterns.push(g);
        }
        let set = b
            .build()
            .map_err(|e| self.err(v, format!("invalid globs: {e}"), "invalid glob", None))?;
        Ok((set, patterns))
    }

    /// `clusters:`, a list of `{name, paths, profile?, namespace?, external-ips?}`.
    pub(super) fn clusters(
        &self,
        v: NodeId,
        warnings: &mut Vec<ConfigIssue>,
    ) -> Result<Vec<ClusterConfig>, Error> {
        const KNOWN: &[&str] = &[
            "name",
            "paths",
            "profile",
            "namespace",
            "external-ips",
            "kubernetes-version",
            "feature-gates",
            "load-balancer",
        ];
        if !matches!(
            self.tree.node(self.tree.resolve(v)).kind,
            NodeKind::Seq { .. }
        ) {
            return Err(self.err(
                v,
                "`clusters` must be a list".into(),
                "expected a list",
                None,
            ));
        }
        let mut out: Vec<ClusterConfig> = Vec::new();
        for &item in self.tree.items(v) {
            let mut c = ClusterConfig::default();
            let mut named = false;
            let mut pathed = false;
            let Some(pairs) = self.keep(self.mapping(item, "a cluster")) else {
                continue;
            };
            for (key, k, v) in pairs {
                let read = (|| -> Result<(), Error> {
                    match key.as_str() {
                        "name" => {
                            c.name = self.string(v, "name")?;
                            if out.iter().any(|o| o.name == c.name) || c.name == DEFAULT_CLUSTER {
                                return Err(self.err(
                                v,
                                format!("cluster `{}` is named twice (`{DEFAULT_CLUSTER}` is the cluster of files no other cluster holds)", c.name),
                                "named twice",
                                None,
                            ));
                            }
                            named = true;
                        }
                        "paths" => {
                            (c.paths, c.patterns) = self.globs(v, "paths")?;
                            pathed = true;
                        }
                        "profile" => c.profile = Some((self.profile(v)?, self.source(v))),
                        "namespace" => {
                            c.namespace = Some((self.string(v, "namespace")?, self.source(v)));
                        }
                        "external-ips" => {
                            c.allow = Some(self.allow(v, "external-ips", warnings)?);
                        }
                        "kubernetes-version" => c.kubernetes = Some(self.version(v)?),
                        "feature-gates" => c.feature_gates = self.gates(v)?,
                        "load-balancer" => c.load_balancer = Some(self.load_balancer(v)?),
                        _ => return Err(unknown_key(self, &key, k, KNOWN)),
                    }
                    Ok(())
                })();
                self.keep(read);
            }
            if !named || !pathed {
                self.keep::<()>(Err(self.err(
                    item,
                    "a cluster needs a `name` and `paths`".into(),
                    "incomplete cluster",
                    Some("for example `{name: prod, paths: [\"clusters/prod/**\"]}`".into()),
                )));
                continue;
            }
            out.push(c);
        }
        Ok(out)
    }
}
