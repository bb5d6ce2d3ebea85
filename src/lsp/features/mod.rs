//! The answers to requests: hover, completion, definition, references, formatting,
//! document symbols, semantic tokens, code actions, code lenses and the test command.

mod actions;
mod completion;
mod docs;
mod edits;
mod hover;
mod locate;
mod navigate;
mod tokens;

use actions::*;
use completion::*;
pub use docs::BUILTINS;
use docs::*;
use edits::*;
use hover::*;
use locate::*;
use navigate::*;
pub use tokens::{TOKEN_MODIFIERS, TOKEN_TYPES, semantic_tokens};

use super::analysis::{self, Analysis, FileInfo};
use super::text::{self, uri_to_path};
use super::{Failure, RUN_TESTS, Snapshot};
use crate::check::ir::{KindSet, Severity, Ty};
use crate::check::{Member, members};
use crate::diag::Span;
use crate::schema::kinds;
use crate::schema::{FieldType, Schema};
use crate::syntax::ast::{self, Expr, ExprKind, Item};
use lsp_types::{
    CodeLens, Command, CompletionItem, CompletionItemKind, DocumentSymbol, Documentation, Hover,
    HoverContents, Location, MarkupContent, MarkupKind, Position, SymbolKind, TextEdit,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// What the server offers, for `initialize`.
pub fn capabilities() -> Value {
    json!({
        "positionEncoding": "utf-16",
        "textDocumentSync": {"openClose": true, "change": 2, "save": {"includeText": false}},
        "hoverProvider": true,
        "completionProvider": {"triggerCharacters": [".", "\""]},
        "definitionProvider": true,
        "referencesProvider": true,
        "documentFormattingProvider": true,
        "documentSymbolProvider": true,
        "codeActionProvider": {"codeActionKinds": ["quickfix"]},
        "codeLensProvider": {"resolveProvider": false},
        "executeCommandProvider": {"commands": [RUN_TESTS]},
        "semanticTokensProvider": {
            "legend": {"tokenTypes": TOKEN_TYPES, "tokenModifiers": TOKEN_MODIFIERS},
            "full": true,
        },
    })
}

/// Answers one request.
pub(crate) fn handle(s: &Snapshot, method: &str, params: Value) -> Result<Value, Failure> {
    let v = match method {
        "textDocument/hover" => to_value(hover(s, &params)?),
        "textDocument/completion" => to_value(completion(s, &params)?),
        "textDocument/definition" => to_value(definition(s, &params)?),
        "textDocument/references" => to_value(references(s, &params)?),
        "textDocument/formatting" => to_value(formatting(s, &params)?),
        "textDocument/documentSymbol" => to_value(symbols(s, &params)?),
        "textDocument/semanticTokens/full" => {
            let (path, t) = document(s, &params)?;
            // parameters and tables of the ruleset are read-only variables
            let a = s.analysis(&path);
            let constants: Vec<&str> = a
                .files
                .iter()
                .flat_map(|f| &f.ast.items)
                .filter_map(|i| match i {
                    Item::Param(p) => Some(p.name.text.as_str()),
                    Item::Table(t) => Some(t.name.text.as_str()),
                    _ => None,
                })
                .collect();
            json!({"data": semantic_tokens(&t, &constants)})
        }
        "textDocument/codeAction" => to_value(code_actions(s, &params)?),
        "textDocument/codeLens" => to_value(code_lenses(s, &params)?),
        "workspace/executeCommand" => execute(s, &params)?,
        _ => return Err(Failure::method(method)),
    };
    Ok(v)
}

fn to_value<T: serde::Serialize>(x: T) -> Value {
    serde_json::to_value(x).unwrap_or(Value::Null)
}

/// The document a request names, and its text.
fn document(s: &Snapshot, params: &Value) -> Result<(PathBuf, Arc<String>), Failure> {
    let uri = params
        .pointer("/textDocument/uri")
        .and_then(Value::as_str)
        .ok_or_else(|| Failure::params("no `textDocument.uri`"))?;
    let path = uri_to_path(uri).ok_or_else(|| Failure::params(format!("not a file: `{uri}`")))?;
    let text = s
        .text(&path)
        .ok_or_else(|| Failure::params(format!("cannot read `{}`", path.display())))?;
    Ok((path, text))
}

/// The document and byte offset of a position request.
fn document_at(s: &Snapshot, params: &Value) -> Result<(PathBuf, Arc<String>, usize), Failure> {
    let (path, t) = document(s, params)?;
    let pos: Position = params
        .get("position")
        .cloned()
        .and_then(|p| serde_json::from_value(p).ok())
        .ok_or_else(|| Failure::params("no `position`"))?;
    let off = text::offset(&t, pos);
    Ok((path, t, off))
}
