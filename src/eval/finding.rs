//! Findings: what a rule reports, where, and why.

use crate::check::ir::Severity;
use crate::diag::{SourceMap, Span};
use serde::Serialize;
use std::borrow::Cow;
use std::sync::Arc;

/// A resolved source location.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    /// File name as shown to users.
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (characters).
    pub column: u32,
    /// 1-based end line.
    pub end_line: u32,
    /// 1-based end column.
    pub end_column: u32,
    /// The span, for rendering snippets.
    #[serde(skip)]
    pub span: Span,
}

impl Location {
    /// Resolves a span through the source map.
    pub fn of(sources: &SourceMap, span: Span) -> Location {
        let ((line, column), (end_line, end_column)) = sources.line_col_span(span);
        // a file is at most 4 GiB (`--max-file-size`), so lines and columns fit in 32 bits
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Location {
            file: sources.name_shared(span.file),
            line: narrow(line),
            column: narrow(column),
            end_line: narrow(end_line),
            end_column: narrow(end_column),
            span,
        }
    }
}

/// One object in a finding's evidence chain.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Evidence {
    /// Kind.
    pub kind: Arc<str>,
    /// Namespace, if namespaced.
    pub namespace: Option<Arc<str>>,
    /// Name (shared with the graph's object).
    pub name: Arc<str>,
    /// Where it is.
    pub location: Option<Location>,
    /// For a step of a path (a relation's `step` clause): what the step says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
}

/// The object a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Resource {
    /// `apiVersion` (shared with the graph's object, as are the kind and namespace).
    pub api_version: Arc<str>,
    /// Kind.
    pub kind: Arc<str>,
    /// Namespace.
    pub namespace: Option<Arc<str>>,
    /// Name (shared with the graph's object unless it had to be escaped).
    pub name: Arc<str>,
    /// The Helm template it came from (`# Source:`), when known (shared with the document).
    pub helm_source: Option<Arc<str>>,
}

/// What separates the values of a [`Message`]: a control character, which the escaped
/// values never contain.
const SEPARATOR: char = '\u{1}';

/// The texts of a rule's message around its interpolated values: one more than the values
/// (the values go between them), escaped as messages are. Shared by the rule's findings.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Template(Box<[Box<str>]>);

impl Template {
    /// A template of the given texts (at least one; none reads as one empty text).
    pub fn new(literals: Vec<String>) -> Template {
        let mut texts: Vec<Box<str>> = literals
            .into_iter()
            .map(|l| {
                if super::emit::needs_escape(&l) {
                    super::emit::sanitize(&l).into()
                } else {
                    l.into()
                }
            })
            .collect();
        if texts.is_empty() {
            texts.push("".into());
        }
        Template(texts.into())
    }
}

/// A finding's message, kept as the values its rule's message interpolates beside the
/// rule's shared [`Template`]; the text is put together where it is read.
#[derive(Clone, Debug)]
pub struct Message {
    template: Arc<Template>,
    /// The values, each escaped, separated by [`SEPARATOR`].
    values: Box<str>,
}

impl Message {
    /// The message of `values` (made by [`MessageValues`]) in `template`.
    pub fn new(template: Arc<Template>, values: Box<str>) -> Message {
        Message { template, values }
    }

    /// A message given whole, kept as it is.
    pub fn plain(text: &str) -> Message {
        Message {
            template: Arc::new(Template(vec![Box::<str>::from(text)].into())),
            values: "".into(),
        }
    }

    /// The pieces of the text, in order: a template text, a value, a template text, ...
    pub fn pieces(&self) -> Pieces<'_> {
        Pieces {
            texts: self.template.0.iter(),
            values: Some(&self.values),
            value_next: false,
        }
    }

    /// The text's bytes.
    fn bytes(&self) -> impl Iterator<Item = u8> + '_ {
        self.pieces().flat_map(str::bytes)
    }

    /// The text's length in bytes.
    pub fn len(&self) -> usize {
        self.pieces().map(str::len).sum()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.pieces().all(str::is_empty)
    }

    /// Bytes of the heap the message holds itself (the template is shared).
    pub fn heap_bytes(&self) -> usize {
        self.values.len()
    }
}

/// The pieces of a [`Message`]'s text: each template text, and between two of them the
/// next value (none once the values run out). The values are found by the byte of
/// [`SEPARATOR`] (one byte in UTF-8): the reports read every message's pieces, and
/// splitting by a `char` through nested iterators cost more than writing them.
#[derive(Clone, Debug)]
pub struct Pieces<'m> {
    texts: std::slice::Iter<'m, Box<str>>,
    /// The values not given yet; `None` once every one is.
    values: Option<&'m str>,
    /// Whether a value comes next (after a text that is not the last).
    value_next: bool,
}

impl<'m> Iterator for Pieces<'m> {
    type Item = &'m str;

    fn next(&mut self) -> Option<&'m str> {
        if std::mem::take(&mut self.value_next) {
            if let Some(rest) = self.values {
                let value = match memchr::memchr(SEPARATOR as u8, rest.as_bytes()) {
                    Some(i) => {
                        self.values = rest.get(i + 1..);
                        rest.get(..i)
                    }
                    None => {
                        self.values = None;
                        Some(rest)
                    }
                };
                if value.is_some() {
                    return value;
                }
            }
        }
        let text = self.texts.next()?;
        self.value_next = self.texts.len() > 0;
        Some(text)
    }
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.pieces().try_for_each(|p| f.write_str(p))
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Message) -> bool {
        (Arc::ptr_eq(&self.template, &other.template) && self.values == other.values)
            || (self.len() == other.len() && self.bytes().eq(other.bytes()))
    }
}

impl Eq for Message {}

impl PartialOrd for Message {
    fn partial_cmp(&self, other: &Message) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Message {
    /// The texts' order (`str`'s, byte by byte).
    fn cmp(&self, other: &Message) -> std::cmp::Ordering {
        if Arc::ptr_eq(&self.template, &other.template) && self.values == other.values {
            return std::cmp::Ordering::Equal;
        }
        self.bytes().cmp(other.bytes())
    }
}

impl Serialize for Message {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Gathers the values of a [`Message`]: each is written, then escaped, then separated from
/// the next.
#[derive(Debug, Default)]
pub struct MessageValues {
    text: String,
    count: usize,
}

impl MessageValues {
    /// Starts over, keeping the buffer.
    pub fn clear(&mut self) {
        self.text.clear();
        self.count = 0;
    }

    /// Adds the value `write` writes.
    pub fn push_with(&mut self, write: impl FnOnce(&mut String)) {
        if self.count > 0 {
            self.text.push(SEPARATOR);
        }
        self.count += 1;
        let start = self.text.len();
        write(&mut self.text);
        if let Some(v) = self.text.get(start..) {
            if super::emit::needs_escape(v) {
                let escaped = super::emit::sanitize(v);
                self.text.truncate(start);
                self.text.push_str(&escaped);
            }
        }
    }

    /// Puts the values `left` (bit `k` for the `k`th) back in, written as empty: value `k`
    /// is `text(k)`, escaped as [`MessageValues::push_with`] escapes (the caller's part).
    pub(crate) fn put_back<'t>(&mut self, left: u32, text: impl Fn(u32) -> Cow<'t, str>) {
        self.text = String::from(MessageValues::with_put_back(&self.text, left, text));
    }

    /// `values` (as [`MessageValues::as_str`] gives them) with the values `left` put back
    /// ([`MessageValues::put_back`]).
    pub(crate) fn with_put_back<'t>(
        values: &str,
        left: u32,
        text: impl Fn(u32) -> Cow<'t, str>,
    ) -> Box<str> {
        // the exact size first: a box made from a string with room to spare is copied
        // again (the values of a record are a few dozen bytes, the values left out two)
        let mut len = values.len();
        let mut bits = left;
        while bits != 0 {
            len += text(bits.trailing_zeros()).len();
            bits &= bits - 1;
        }
        let mut out = String::with_capacity(len);
        // the text is copied up to each value put back, which is empty in it: at the start
        // of value `k`, after the `k`th separator
        let (mut k, mut at, mut copied) = (0u32, 0usize, 0usize);
        let mut bits = left;
        while bits != 0 {
            let want = bits.trailing_zeros();
            while k < want {
                let next = values
                    .as_bytes()
                    .get(at..)
                    .and_then(|rest| rest.iter().position(|&b| b == SEPARATOR as u8));
                // (fewer values than bits: the rest is copied as it is)
                let Some(i) = next else { break };
                // (the separator is one byte: `at` stays on a character's start)
                at += i + 1;
                k += 1;
            }
            if k < want {
                break;
            }
            out.push_str(values.get(copied..at).unwrap_or(""));
            out.push_str(&text(want));
            copied = at;
            bits &= bits - 1;
        }
        out.push_str(values.get(copied..).unwrap_or(""));
        out.into_boxed_str()
    }

    /// The values, for [`Message::new`].
    pub fn finish(&self) -> Box<str> {
        self.text.as_str().into()
    }

    /// The values' text, as [`MessageValues::finish`] gives it.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// The objects of a finding's evidence chain: most findings have none, and pay a pointer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Evidences(Option<Box<Box<[Evidence]>>>);

impl Evidences {
    /// The objects, as a list of their own.
    pub fn into_vec(self) -> Vec<Evidence> {
        self.0.map_or_else(Vec::new, |v| v.into_vec())
    }

    /// Bytes of the heap the list holds itself.
    pub fn heap_bytes(&self) -> usize {
        self.0.as_ref().map_or(0, |v| {
            std::mem::size_of::<Box<[Evidence]>>() + std::mem::size_of_val(&***v)
        })
    }
}

impl From<Vec<Evidence>> for Evidences {
    fn from(v: Vec<Evidence>) -> Evidences {
        Evidences((!v.is_empty()).then(|| Box::new(v.into_boxed_slice())))
    }
}

impl std::ops::Deref for Evidences {
    type Target = [Evidence];
    fn deref(&self) -> &[Evidence] {
        self.0.as_deref().map_or(&[], |v| v)
    }
}

impl std::ops::DerefMut for Evidences {
    fn deref_mut(&mut self) -> &mut [Evidence] {
        match &mut self.0 {
            Some(v) => v,
            None => &mut [],
        }
    }
}

impl<'a> IntoIterator for &'a Evidences {
    type Item = &'a Evidence;
    type IntoIter = std::slice::Iter<'a, Evidence>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut Evidences {
    type Item = &'a mut Evidence;
    type IntoIter = std::slice::IterMut<'a, Evidence>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl Serialize for Evidences {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// A finding as the evaluator records it: what only its row knows (its object, place,
/// message values, evidence and fix). Its rule is kept once for a run of records
/// ([`Batch::rules`]), its values' text in its batch's text one after the other, and its
/// evidence and fix, which most findings lack, in its batch's extras. The texts it shares
/// with its rule and its object, and its line and column, are added when it is made into a
/// [`Finding`] ([`crate::eval::exec::Records::findings`]): 24 bytes and its values' text,
/// against a made finding's 128-byte box, pointer and values of its own. A scan records
/// its findings while the documents' nodes are in memory and makes them once the nodes
/// are freed (`engine::scan_with`), so that the two never take memory at the same time.
#[derive(Debug)]
pub struct Record {
    /// The object the finding is about.
    pub(crate) object: crate::graph::ObjId,
    /// Where it is.
    pub(crate) span: Span,
    /// The length of its message's values in its batch's text (which holds the values of
    /// the batch's records in their order), and [`Record::LEAVES_OWN`].
    values: u32,
    /// Its evidence and fix: a place in its batch's extras, or [`Record::NO_EXTRA`].
    pub(crate) extra: u32,
}

impl Record {
    /// The [`Record::extra`] of a finding without evidence or fix.
    pub(crate) const NO_EXTRA: u32 = u32::MAX;

    /// The bit of [`Record::values`] that says the values leave out the finding's own
    /// object's kind and name (`emit::Own`); the others are the length.
    const LEAVES_OWN: u32 = 1 << 31;

    /// The length of its values in its batch's text.
    pub(crate) fn values_len(&self) -> usize {
        (self.values & !Record::LEAVES_OWN) as usize
    }

    /// Whether its values leave out its own object's kind and name (put back when the
    /// finding is made).
    pub(crate) fn leaves_own(&self) -> bool {
        self.values & Record::LEAVES_OWN != 0
    }
}

/// An object of a finding's evidence as it is recorded: made into an [`Evidence`] (kind,
/// namespace, name and line) with its finding.
#[derive(Debug)]
pub(crate) struct Witness {
    /// The object.
    pub(crate) object: crate::graph::ObjId,
    /// Where it is (a path step's own place, else the object's).
    pub(crate) span: Option<Span>,
    /// For a step of a path: what the step says, made printable (and the object's name is
    /// made printable too when the evidence is made).
    pub(crate) step: Option<Box<str>>,
}

/// The evidence and fix of a record that has either.
#[derive(Debug)]
pub(crate) struct Extra {
    /// Its witnesses in its batch's: start and count.
    pub(crate) witnesses: (u32, u32),
    /// The rule's fix for the finding, when the rule has one.
    pub(crate) autofix: Option<Arc<super::fixes::Autofix>>,
}

/// Records, the text of their messages' values, their rules, evidence and fixes.
#[derive(Debug, Default)]
pub struct Batch {
    pub(crate) records: Vec<Record>,
    pub(crate) values: String,
    /// The rule of the records from each place on: (first record, rule by its position in
    /// the program), in the records' order.
    pub(crate) rules: Vec<(u32, u32)>,
    pub(crate) extras: Vec<Extra>,
    pub(crate) witnesses: Vec<Witness>,
}

/// A record with what its batch keeps for it, as [`Batch::each`] hands it over.
pub(crate) struct Entry<'b> {
    /// The rule, by its position in the program.
    pub(crate) rule: u32,
    pub(crate) record: &'b Record,
    /// Its message's values.
    pub(crate) values: &'b str,
    pub(crate) witnesses: &'b [Witness],
    pub(crate) autofix: Option<&'b Arc<super::fixes::Autofix>>,
}

impl Batch {
    /// Whether the batch has room for one more record with `values` bytes of values and
    /// `witnesses` witnesses (every place in it is 32 bits).
    fn fits(&self, values: usize, witnesses: usize) -> bool {
        let room = |have: usize, more: usize| {
            have.checked_add(more)
                .is_some_and(|n| u32::try_from(n).is_ok_and(|n| n < u32::MAX))
        };
        room(self.values.len(), values)
            && room(self.records.len(), 1)
            && room(self.extras.len(), 1)
            && room(self.witnesses.len(), witnesses)
    }

    /// Calls `f` with every record and what the batch keeps for it, in order.
    pub(crate) fn each(&self, mut f: impl FnMut(Entry<'_>)) {
        let mut at = 0usize;
        let mut rules = self.rules.iter().peekable();
        let mut rule = u32::MAX;
        for (i, record) in self.records.iter().enumerate() {
            while let Some(&&(first, r)) = rules.peek() {
                if first as usize > i {
                    break;
                }
                rule = r;
                rules.next();
            }
            let len = record.values_len();
            let values = self.values.get(at..at + len).unwrap_or("");
            at += len;
            let extra = self.extras.get(record.extra as usize);
            let witnesses = extra.map_or(&[][..], |e| {
                let (start, n) = (e.witnesses.0 as usize, e.witnesses.1 as usize);
                self.witnesses.get(start..start + n).unwrap_or(&[])
            });
            f(Entry {
                rule,
                record,
                values,
                witnesses,
                autofix: extra.and_then(|e| e.autofix.as_ref()),
            });
        }
    }
}

/// The findings of one task, as records: batches of them, a new one where a place in the
/// last would pass what 32 bits say.
#[derive(Debug, Default)]
pub struct Recorded {
    pub(crate) batches: Vec<Batch>,
    /// The rule whose findings are recorded now (its position in the program).
    pub(crate) rule: u32,
}

impl Recorded {
    /// Records a finding of the current rule about `object` at `span`, whose message's
    /// values are `values`.
    pub(crate) fn push(
        &mut self,
        object: crate::graph::ObjId,
        span: Span,
        values: &str,
        leaves_own: bool,
        witnesses: Vec<Witness>,
        autofix: Option<Arc<super::fixes::Autofix>>,
    ) {
        if !self
            .batches
            .last()
            .is_some_and(|b| b.fits(values.len(), witnesses.len()))
        {
            self.batches.push(Batch::default());
        }
        let Some(batch) = self.batches.last_mut() else {
            return;
        };
        // (every place below fits: `fits`)
        let index = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        if batch.rules.last().is_none_or(|&(_, r)| r != self.rule) {
            batch.rules.push((index(batch.records.len()), self.rule));
        }
        // a fix that cannot be made is shared by the findings of its rule
        // (`emit::shared_fix`): consecutive ones share their extra too
        let shares_last = witnesses.is_empty()
            && batch.extras.last().is_some_and(|e| {
                e.witnesses.1 == 0
                    && matches!((&e.autofix, &autofix), (Some(a), Some(b)) if Arc::ptr_eq(a, b))
            });
        let extra = if witnesses.is_empty() && autofix.is_none() {
            Record::NO_EXTRA
        } else if shares_last {
            index(batch.extras.len() - 1)
        } else {
            let start = index(batch.witnesses.len());
            let n = index(witnesses.len());
            batch.witnesses.extend(witnesses);
            batch.extras.push(Extra {
                witnesses: (start, n),
                autofix,
            });
            index(batch.extras.len() - 1)
        };
        batch.values.push_str(values);
        // (a length past 31 bits, of a message of 2 GiB, is cut to them)
        let len = index(values.len()).min(!Record::LEAVES_OWN);
        batch.records.push(Record {
            object,
            span,
            values: if leaves_own {
                len | Record::LEAVES_OWN
            } else {
                len
            },
            extra,
        });
    }

    /// Gives back the room the batches' lists grew beyond what they hold: a task's records
    /// are kept until every task is done, and lists grown by doubling held 27 MB at the
    /// peak of a 100k-object scan for 16 MB of records and text (`heaptrack`).
    pub(crate) fn shrink_to_fit(&mut self) {
        for b in &mut self.batches {
            b.records.shrink_to_fit();
            b.values.shrink_to_fit();
            b.rules.shrink_to_fit();
            b.extras.shrink_to_fit();
            b.witnesses.shrink_to_fit();
        }
    }

    /// Moves the batches of `other` after these.
    pub(crate) fn append(&mut self, other: Recorded) {
        self.batches
            .extend(other.batches.into_iter().filter(|b| !b.records.is_empty()));
    }
}

/// A finding: a pointer to its [`FindingData`], whose fields it gives access to.
/// Findings are gathered from every thread and then sorted; boxed, that moves a pointer
/// each time rather than the whole finding, and the gathered lists cost a pointer per
/// finding while they are joined.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Finding(Box<FindingData>);

impl From<FindingData> for Finding {
    fn from(data: FindingData) -> Finding {
        Finding(Box::new(data))
    }
}

impl std::ops::Deref for Finding {
    type Target = FindingData;
    fn deref(&self) -> &FindingData {
        &self.0
    }
}

impl std::ops::DerefMut for Finding {
    fn deref_mut(&mut self) -> &mut FindingData {
        &mut self.0
    }
}

/// What a finding says. Texts that belong to the rule or the file are shared by every
/// finding of it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FindingData {
    /// The rule's id, name, title, OWASP categories and fix text, shared by its findings.
    #[serde(flatten)]
    pub rule: Arc<crate::eval::interp::RuleText>,
    /// Severity.
    pub severity: Severity,
    /// The object, shared by every finding about it.
    pub resource: Arc<Resource>,
    /// Where.
    pub location: Location,
    /// The message.
    pub message: Message,
    /// Objects that made the finding (graph rules).
    pub evidence: Evidences,
    /// Where the finding is in the rendered output of a Helm chart or Kustomize overlay,
    /// when `location` was mapped back to the template or resource file that wrote it.
    /// Boxed, as are the other rare parts: most findings have none, and each finding pays
    /// only a pointer for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered: Option<Box<Location>>,
    /// Where the value came from, when a Helm template wrote it from the chart's values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_source: Option<Box<ValueSource>>,
    /// The rule's fix for this finding, when the rule has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autofix: Option<std::sync::Arc<super::fixes::Autofix>>,
}

/// The values entry a template took a value from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValueSource {
    /// The template expression, such as `.Values.securityContext.privileged`.
    pub expr: String,
    /// The key in the values file that set it, when found.
    pub location: Option<Location>,
}

impl FindingData {
    /// Bytes of the heap the finding holds itself: its box, its message and its evidence
    /// (for measurements; the texts it shares with its rule and object are left out).
    pub fn heap_bytes(&self) -> usize {
        let evidence: usize = self
            .evidence
            .iter()
            .map(|e| e.step.as_ref().map_or(0, String::capacity))
            .sum();
        std::mem::size_of::<FindingData>()
            + self.message.heap_bytes()
            + self.evidence.heap_bytes()
            + evidence
    }

    /// The sort key that makes output deterministic.
    pub fn sort_key(&self) -> (&str, u32, u32, &str, &Message) {
        (
            &self.location.file,
            self.location.line,
            self.location.column,
            &self.rule.id,
            &self.message,
        )
    }
}

/// Sorts findings deterministically: file, line, column, rule id, message.
pub fn sort(findings: &mut [Finding]) {
    use rayon::slice::ParallelSliceMut;
    // the order of `sort_key`, with shared texts (the file's name, the rule's id) told
    // equal by their pointer before their bytes; a stable sort, as the serial one was
    findings.par_sort_by(|a, b| {
        let shared = |x: &Arc<str>, y: &Arc<str>| {
            if Arc::ptr_eq(x, y) {
                std::cmp::Ordering::Equal
            } else {
                x.cmp(y)
            }
        };
        shared(&a.location.file, &b.location.file)
            .then(a.location.line.cmp(&b.location.line))
            .then(a.location.column.cmp(&b.location.column))
            .then_with(|| shared(&a.rule.id, &b.rule.id))
            .then_with(|| a.message.cmp(&b.message))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(reason: &str) -> Arc<crate::eval::fixes::Autofix> {
        Arc::new(crate::eval::fixes::Autofix {
            applicability: "safe",
            reason: reason.into(),
            target: None,
            doc: None,
            ops: Vec::new(),
            unfixable: Some("cannot".into()),
            changes: Vec::new(),
        })
    }

    fn at(start: u32) -> Span {
        Span {
            file: crate::diag::FileId::default(),
            start,
            end: start + 1,
        }
    }

    /// What a batch gives back for each record: its rule, object, place, values, witnesses'
    /// objects and steps, and fix reason.
    type Seen = (
        u32,
        u32,
        u32,
        String,
        Vec<(u32, Option<String>)>,
        Option<String>,
    );

    fn seen(r: &Recorded) -> Vec<Seen> {
        let mut out = Vec::new();
        for b in &r.batches {
            b.each(|e| {
                out.push((
                    e.rule,
                    e.record.object,
                    e.record.span.start,
                    e.values.to_string(),
                    e.witnesses
                        .iter()
                        .map(|w| (w.object, w.step.as_deref().map(String::from)))
                        .collect(),
                    e.autofix.map(|a| a.reason.to_string()),
                ));
            });
        }
        out
    }

    #[test]
    fn a_batch_gives_back_what_was_recorded() {
        assert_eq!(std::mem::size_of::<Record>(), 24);
        let shared = fix("shared");
        let mut r = Recorded::default();
        let step = |o: u32, s: Option<&str>| Witness {
            object: o,
            span: Some(at(o)),
            step: s.map(Into::into),
        };
        r.rule = 3;
        r.push(1, at(10), "a", false, Vec::new(), None);
        r.push(2, at(20), "", true, Vec::new(), Some(Arc::clone(&shared)));
        r.push(3, at(30), "bc", true, Vec::new(), Some(Arc::clone(&shared)));
        r.rule = 0;
        r.push(
            4,
            at(40),
            "d",
            false,
            vec![step(7, None), step(8, Some("runs as"))],
            None,
        );
        r.push(5, at(50), "e", false, Vec::new(), Some(Arc::clone(&shared)));
        r.push(6, at(60), "f", false, Vec::new(), Some(fix("own")));
        r.push(
            7,
            at(70),
            "",
            false,
            vec![step(9, None)],
            Some(Arc::clone(&shared)),
        );
        r.rule = 3;
        r.push(8, at(80), "g", true, Vec::new(), None);
        r.shrink_to_fit();
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            seen(&r),
            vec![
                (3, 1, 10, "a".into(), vec![], None),
                (3, 2, 20, "".into(), vec![], s("shared")),
                (3, 3, 30, "bc".into(), vec![], s("shared")),
                (
                    0,
                    4,
                    40,
                    "d".into(),
                    vec![(7, None), (8, s("runs as"))],
                    None
                ),
                (0, 5, 50, "e".into(), vec![], s("shared")),
                (0, 6, 60, "f".into(), vec![], s("own")),
                (0, 7, 70, "".into(), vec![(9, None)], s("shared")),
                (3, 8, 80, "g".into(), vec![], None),
            ]
        );
        let b = r.batches.first().expect("a batch");
        assert_eq!(b.rules, vec![(0, 3), (3, 0), (7, 3)]);
        // consecutive findings with the same fix that cannot be made share its extra; one
        // after a finding with evidence or another fix gets its own
        assert_eq!(b.extras.len(), 5);
        assert_eq!(b.witnesses.len(), 3);
        // which records left their own object's kind and name out, beside their length
        let leaves: Vec<bool> = b.records.iter().map(Record::leaves_own).collect();
        assert_eq!(
            leaves,
            [false, true, true, false, false, false, false, true]
        );
    }

    #[test]
    fn values_left_out_are_put_back_in_their_places() {
        let sep = SEPARATOR.to_string();
        let values = ["regular", "", "app", ""].join(&sep);
        // (escaped by the caller, as the finding's maker escapes them)
        let text = |k: u32| {
            let t = if k == 1 { "Deployment" } else { "web\u{7}" };
            Cow::Owned(super::super::emit::sanitize(t))
        };
        let back = MessageValues::with_put_back(&values, 0b1010, text);
        assert_eq!(
            &*back,
            ["regular", "Deployment", "app", "web\\u{7}"].join(&sep)
        );
        // as the values are written in full
        let mut full = MessageValues::default();
        for v in ["regular", "Deployment", "app", "web\u{7}"] {
            full.push_with(|t| t.push_str(v));
        }
        assert_eq!(&*back, full.as_str());
        let mut put = MessageValues::default();
        for v in ["regular", "", "app", ""] {
            put.push_with(|t| t.push_str(v));
        }
        put.put_back(0b1010, text);
        assert_eq!(put.as_str(), full.as_str());
        // the first and the last, around a value of several bytes a character
        let values = ["", "é€", ""].join(&sep);
        let ends = |k: u32| Cow::Borrowed(if k == 0 { "Pod" } else { "p" });
        assert_eq!(
            &*MessageValues::with_put_back(&values, 0b101, ends),
            ["Pod", "é€", "p"].join(&sep)
        );
        assert_eq!(&*MessageValues::with_put_back("", 0b1, ends), "Pod");
        // nothing left out: the values as they are
        assert_eq!(&*MessageValues::with_put_back(&values, 0, text), values);
    }

    #[test]
    fn a_finding_fits_the_allocators_128_byte_class() {
        // 214,000 findings at 100k objects: 160 bytes each took a 160-byte block
        assert!(std::mem::size_of::<FindingData>() <= 128);
        assert_eq!(std::mem::size_of::<Location>(), 48);
        assert_eq!(std::mem::size_of::<Evidences>(), 8);
    }

    fn message(literals: &[&str], values: &[&str]) -> Message {
        let template = Arc::new(Template::new(
            literals.iter().map(|l| l.to_string()).collect(),
        ));
        let mut m = MessageValues::default();
        for v in values {
            m.push_with(|out| out.push_str(v));
        }
        Message::new(template, m.finish())
    }

    #[test]
    fn a_message_reads_as_its_template_filled_in() {
        let m = message(
            &["container `", "` of ", "", " runs"],
            &["app", "Pod", " `p`"],
        );
        assert_eq!(m.to_string(), "container `app` of Pod `p` runs");
        assert_eq!(m.len(), m.to_string().len());
        assert_eq!(message(&["no values"], &[]).to_string(), "no values");
        assert_eq!(message(&["", ""], &[""]).to_string(), "");
        assert_eq!(Message::plain("as is\u{1}").to_string(), "as is\u{1}");
        // values keep their bytes apart from the separator: a control character in one
        // is escaped, as the whole message was
        let hostile = message(&["a ", " b ", ""], &["x\u{1}y", "\u{1b}[31m"]);
        assert_eq!(hostile.to_string(), "a x\\u{1}y b \\u{1b}[31m");
        assert_eq!(message(&["a\u{7} ", ""], &["v"]).to_string(), "a\\u{7} v");
    }

    /// The pieces are those of splitting the values by the separator and putting them
    /// between the texts, the values past the last text and those missing left out: for
    /// every template of up to four texts and values of up to four parts, empty ones too.
    #[test]
    fn pieces_are_the_texts_with_the_values_between() {
        let reference = |m: &Message| -> Vec<String> {
            let mut values = m.values.split(SEPARATOR);
            let last = m.template.0.len().saturating_sub(1);
            let mut out = Vec::new();
            for (i, text) in m.template.0.iter().enumerate() {
                out.push(text.to_string());
                if i < last {
                    if let Some(v) = values.next() {
                        out.push(v.to_string());
                    }
                }
            }
            out
        };
        let words = ["", "a", "é b", ""];
        for texts in 1..=4 {
            for parts in 0..=4 {
                for empty in [false, true] {
                    let literals: Vec<String> = (0..texts)
                        .map(|i| format!("t{i}{}", words[i % 4]))
                        .collect();
                    let values: Vec<String> = (0..parts)
                        .map(|i| {
                            if empty && i % 2 == 1 {
                                String::new()
                            } else {
                                format!("v{i}")
                            }
                        })
                        .collect();
                    let m = Message::new(
                        Arc::new(Template::new(literals)),
                        values.join(&SEPARATOR.to_string()).into(),
                    );
                    let got: Vec<String> = m.pieces().map(str::to_string).collect();
                    assert_eq!(got, reference(&m), "{texts} texts, {parts} values");
                    assert_eq!(m.len(), got.concat().len());
                }
            }
        }
    }

    #[test]
    fn messages_compare_as_their_texts() {
        // the same text split differently between template and values is equal, and the
        // order is the texts' byte order whatever the split
        let a = message(&["", " ", ""], &["a b", "c"]);
        let b = message(&["", " ", ""], &["a", "b c"]);
        assert_eq!(a, b);
        assert_eq!(a.cmp(&b), std::cmp::Ordering::Equal);
        let texts = [
            message(&["x", ""], &["a"]),
            message(&["x", "!"], &["a"]),
            message(&["x", ""], &["a!"]),
            message(&["x", ""], &[""]),
            message(&["", "b"], &["x"]),
            Message::plain("xa"),
            Message::plain("xa "),
        ];
        for l in &texts {
            for r in &texts {
                assert_eq!(l.cmp(r), l.to_string().cmp(&r.to_string()), "{l} vs {r}");
                assert_eq!(l == r, l.to_string() == r.to_string(), "{l} vs {r}");
            }
        }
    }
}
