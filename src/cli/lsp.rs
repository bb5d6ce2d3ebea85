//! `kanon lsp`: the language server on standard input and output (see [`crate::lsp`]).

pub(super) fn run() -> u8 {
    match crate::lsp::run_stdio() {
        Ok(()) => 0,
        Err(e) => {
            super::error_line(&e);
            2
        }
    }
}
