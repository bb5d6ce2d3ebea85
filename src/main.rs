//! The `kanon` binary: a thin wrapper over [`kanon::cli`].

fn main() -> std::process::ExitCode {
    kanon::cli::main()
}
