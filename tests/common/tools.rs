//! The real programs some tests compare with (kubectl, helm, pre-commit), installed on first use
//! into `target/tools/bin` by `scripts/install-test-tools.sh`, pinned. A tool that cannot be
//! installed fails the test that needs it; nothing is skipped.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

static INSTALLING: Mutex<()> = Mutex::new(());

/// The path of `name` (a tool `scripts/install-test-tools.sh` knows), installing it if needed.
pub fn tool(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let path = root.join("target/tools/bin").join(name);
    let _guard = INSTALLING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !path.exists() {
        let out = Command::new(root.join("scripts/install-test-tools.sh"))
            .arg(name)
            .output()
            .expect("scripts/install-test-tools.sh runs");
        assert!(
            out.status.success() && path.exists(),
            "{name} COULD NOT BE INSTALLED by scripts/install-test-tools.sh, so what it checks is NOT verified:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    path
}
