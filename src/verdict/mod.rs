//! What becomes of each finding after the check: its planned fixes (`fix`), whether a
//! suppression covers it (`suppress`), and whether a baseline or revision already had it
//! (`known`).

pub mod fix;
pub mod known;
pub mod suppress;
