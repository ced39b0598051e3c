//! One cluster's facts: which inputs are linted together (`assign`), the index of its objects
//! (`index`), the custom resources its CRDs do not serve (`crd`), and the profile and
//! load-balancer decisions with the evidence that made them (`profile`, `lb`).

pub mod assign;
pub mod crd;
pub mod index;
pub mod lb;
pub mod profile;
