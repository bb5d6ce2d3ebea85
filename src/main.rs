//! The `kanon` binary: a thin wrapper over [`kanon::cli`].

// mimalloc: the document model and the evaluator allocate many small values; the system
// allocator spent a fifth of a scan in malloc and free (see docs/performance.md). Built
// with `no_thp`: without transparent huge pages for its arenas, a 100k-object scan peaks
// about 45 MB (9%) lower and spends half the system time
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    kanon::cli::main()
}
