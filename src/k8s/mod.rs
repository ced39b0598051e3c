//! What Kubernetes, the CNIs and the load-balancer implementations do, as far as extip-lint
//! needs it: releases and their targets (`kubernetes`), addresses and CIDRs (`address`), label
//! selectors (`selector`), Calico's selector language (`calico`), which pods a policy isolates
//! and opens (`policy`), and the load-balancer implementations with their address annotations
//! (`implementation`). Knows nothing of files or YAML.

pub mod address;
pub mod calico;
pub mod implementation;
pub mod kubernetes;
pub mod policy;
pub mod selector;
