//! The `kanon` binary: a thin wrapper over [`kanon::cli`].

// mimalloc: the document model and the evaluator allocate many small values; the system
// allocator spent a fifth of a scan in malloc and free (see docs/performance.md)
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    kanon::cli::main()
}
