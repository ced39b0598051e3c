//! The inputs: the files a run reads (`walk`, with git revisions through `git`), the
//! kustomizations and charts found among them (`kustomize`, `chart`), the Flux and Argo CD releases that
//! name them (`gitops`), and what the renderers make of them (`expand`). Never the settings:
//! each stage takes its own options.

pub mod chart;
pub mod expand;
pub mod git;
pub mod gitops;
pub mod kustomize;
pub mod walk;
