//! The `extip-lint` binary: parse arguments, run, and choose the exit code.
//! 0: no unsuppressed finding at or above `--fail-on`; 1: such findings; 2: usage, config or
//! I/O error.

use std::process::ExitCode;

use clap::Parser;
use extip_lint::cli::{self, Args};

/// Loading builds and drops many small trees and strings: mimalloc does that faster than the
/// system allocators (see README, Performance).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Deep documents decode recursively; give the worker threads room.
const STACK_SIZE: usize = 16 * 1024 * 1024;

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    // The YAML parser can panic on malformed input; that panic is caught and reported as a
    // finding, so it is not printed.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !extip_lint::yaml::in_parser() {
            default_hook(info);
        }
    }));
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(STACK_SIZE)
        .build();
    let result = match pool {
        Ok(pool) => pool.install(|| cli::run(&args)),
        Err(_) => cli::run(&args),
    };
    match result {
        Ok(outcome) if outcome.errors => ExitCode::from(2),
        Ok(outcome) if outcome.failed => ExitCode::from(1),
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprint!("{}", cli::error_text(&e));
            ExitCode::from(2)
        }
    }
}
