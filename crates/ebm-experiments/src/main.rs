//! `ebm`: the command behind `cargo xtask`.

use anyhow::Result;
use clap::Parser;
use ebm_experiments::cli::{Cli, run};

/// mimalloc, told never to return freed pages to the OS: every Langevin step allocates and
/// frees tensors of tens of MiB, and with the system allocator (or mimalloc's default 10 ms
/// purge delay) each step faulted and zeroed those pages again: ResNet32 at batch 128 on two
/// cores, 24 787 page faults and 1.76 s per step against 1 474 and 1.56 s without purging.
/// The price is a larger resident set (the bench reports it).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc's `mi_option_e` (v2 and v3 alike).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn keep_freed_pages() {
    // An environment setting (MIMALLOC_PURGE_DELAY) wins.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a plain integer option; valid at any time.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

fn main() -> Result<()> {
    keep_freed_pages();
    run(Cli::parse())
}
