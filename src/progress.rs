//! How far a run has got, for the progress line people see on long runs: the phase (walk, read,
//! render, check, write) and, within it, units done of a total where the total is known.
//!
//! Stages only count into it; the command line draws it. Counters are atomics so the parallel
//! reader can count without a lock; a stage that starts a phase sets its total first.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering::Relaxed};

/// The phases of a run, in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Finding the files under the paths given.
    Walk,
    /// Reading and parsing files.
    Read,
    /// Running helm and kustomize (`--render`).
    Render,
    /// Indexing clusters and running the rules.
    Check,
    /// Writing the reports.
    Write,
}

impl Phase {
    const ALL: [Phase; 5] = [
        Phase::Walk,
        Phase::Read,
        Phase::Render,
        Phase::Check,
        Phase::Write,
    ];

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Phase::Walk => "walk",
            Phase::Read => "read",
            Phase::Render => "render",
            Phase::Check => "check",
            Phase::Write => "write",
        }
    }

    /// What the phase counts.
    fn unit(self) -> &'static str {
        match self {
            Phase::Walk => "",
            Phase::Read => "files",
            Phase::Render => "charts and kustomizations",
            Phase::Check => "clusters",
            Phase::Write => "findings",
        }
    }
}

/// Counters of the current phase; `Default` is the start of a run (walking, nothing counted).
#[derive(Debug, Default)]
pub struct Progress {
    phase: AtomicU8,
    done: AtomicUsize,
    /// 0 while the total is not known.
    total: AtomicUsize,
    bytes: AtomicU64,
    total_bytes: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub phase: Phase,
    pub done: usize,
    pub total: Option<usize>,
    pub bytes: u64,
    pub total_bytes: Option<u64>,
}

impl Progress {
    /// Starts `phase` with `total` units to do (`None` when not known yet); counts restart.
    pub fn start(&self, phase: Phase, total: Option<usize>) {
        self.done.store(0, Relaxed);
        self.bytes.store(0, Relaxed);
        self.total_bytes.store(0, Relaxed);
        self.total.store(total.unwrap_or(0), Relaxed);
        let i = Phase::ALL.iter().position(|p| *p == phase).unwrap_or(0);
        self.phase.store(i as u8, Relaxed);
    }

    /// The bytes the current phase will read in all.
    pub fn expect_bytes(&self, bytes: u64) {
        self.total_bytes.store(bytes, Relaxed);
    }

    /// One more unit done, of `bytes` bytes.
    pub fn add(&self, units: usize, bytes: u64) {
        self.done.fetch_add(units, Relaxed);
        self.bytes.fetch_add(bytes, Relaxed);
    }

    #[must_use]
    pub fn snapshot(&self) -> Snapshot {
        let nonzero_usize = |n: usize| (n > 0).then_some(n);
        let nonzero_u64 = |n: u64| (n > 0).then_some(n);
        Snapshot {
            phase: Phase::ALL[usize::from(self.phase.load(Relaxed)).min(Phase::ALL.len() - 1)],
            done: self.done.load(Relaxed),
            total: nonzero_usize(self.total.load(Relaxed)),
            bytes: self.bytes.load(Relaxed),
            total_bytes: nonzero_u64(self.total_bytes.load(Relaxed)),
        }
    }
}

impl Snapshot {
    /// The line people see: `read: 512 of 899 files, 23.1 of 50.0 MB (45.2 MB/s)`; `secs` is
    /// the time the phase has taken so far, for the rate.
    #[must_use]
    pub fn line(&self, secs: f64) -> String {
        match (self.phase, self.total) {
            (Phase::Walk, _) => return "walk: finding files".into(),
            (Phase::Check, Some(total)) => {
                return format!("check: cluster {} of {total}", self.done);
            }
            _ => {}
        }
        let mut out = format!("{}: {}", self.phase.name(), self.done);
        if let Some(total) = self.total {
            let _ = write!(out, " of {total}");
        }
        out.push(' ');
        out.push_str(self.phase.unit());
        if self.bytes > 0 {
            #[allow(clippy::cast_precision_loss)]
            let mb = |b: u64| b as f64 / 1_048_576.0;
            let _ = write!(out, ", {:.1}", mb(self.bytes));
            if let Some(total) = self.total_bytes {
                let _ = write!(out, " of {:.1}", mb(total));
            }
            out.push_str(" MB");
            if secs > 0.0 {
                let _ = write!(out, " ({:.1} MB/s)", mb(self.bytes) / secs);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_names_the_phase_and_the_totals_it_knows() {
        let p = Progress::default();
        assert_eq!(p.snapshot().line(1.0), "walk: finding files");
        p.start(Phase::Read, Some(4));
        p.expect_bytes(4 * 1_048_576);
        p.add(1, 1_048_576);
        assert_eq!(
            p.snapshot().line(2.0),
            "read: 1 of 4 files, 1.0 of 4.0 MB (0.5 MB/s)"
        );
        p.start(Phase::Check, Some(2));
        p.add(1, 0);
        assert_eq!(p.snapshot().line(0.5), "check: cluster 1 of 2");
        p.start(Phase::Render, None);
        assert_eq!(
            p.snapshot().line(0.5),
            "render: 0 charts and kustomizations"
        );
    }
}
