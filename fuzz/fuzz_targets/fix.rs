//! Arbitrary bytes as a manifest file, fixed with every fix (`--fix --unsafe-fixes`): the
//! invariants of tests/common/fix_oracle.rs (bytes outside the edits kept, nothing new that
//! does not read, no object changed that no fix was for, nothing fixed twice) must hold, and
//! nothing may panic or hang (see CONTRIBUTING.md).
#![no_main]

#[path = "../../tests/common/fix_oracle.rs"]
mod fix_oracle;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(why) = fix_oracle::check(data, "fuzz.yaml") {
        panic!("a fix broke an invariant: {why}");
    }
});
