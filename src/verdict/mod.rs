//! What becomes of each finding after the check: the template or patch line it maps to in a
//! rendered input (`srcmap`), its planned fixes (`fix`), whether a
//! suppression covers it (`suppress`), and whether a baseline or revision already had it
//! (`known`).

pub mod fix;
pub mod known;
pub mod srcmap;
pub mod suppress;
