//! A progress line on standard error for scans that take more than a second: a background
//! thread waits a second and, if the scan is still running, shows a spinner with the current
//! stage (`reading inputs`, `evaluating 31 rules over 1834 objects`) until the scan ends,
//! then clears the line. Only on a terminal: piped or redirected standard error stays clean.

use crate::engine::Phase;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a scan runs before the progress line appears.
pub const DELAY: Duration = Duration::from_secs(1);

/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(120);

const SPINNER: [char; 4] = ['|', '/', '-', '\\'];

/// Whether to show progress: standard error is a terminal that is not `TERM=dumb`, and
/// `KANON_NO_PROGRESS` is unset.
pub fn enabled() -> bool {
    should_show(
        std::io::stderr().is_terminal(),
        std::env::var("TERM").ok().as_deref(),
        std::env::var_os("KANON_NO_PROGRESS").is_some(),
    )
}

/// The decision behind [`enabled`].
pub fn should_show(stderr_is_terminal: bool, term: Option<&str>, opted_out: bool) -> bool {
    stderr_is_terminal && term != Some("dumb") && !opted_out
}

/// The text shown for a stage.
pub fn describe(p: Phase) -> String {
    match p {
        Phase::Compiling => "compiling rules".to_string(),
        Phase::Loading => "reading inputs".to_string(),
        Phase::Graph { documents } => format!(
            "building the graph of {documents} document{}",
            if documents == 1 { "" } else { "s" }
        ),
        Phase::Evaluating { rules, objects } => format!(
            "evaluating {rules} rule{} over {objects} object{}",
            if rules == 1 { "" } else { "s" },
            if objects == 1 { "" } else { "s" }
        ),
    }
}

#[derive(Default)]
struct State {
    text: String,
    done: bool,
}

type Shared = Arc<(Mutex<State>, Condvar)>;

fn lock(s: &Shared) -> MutexGuard<'_, State> {
    s.0.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running progress display (or nothing, when disabled).
pub struct Progress {
    inner: Option<(Shared, JoinHandle<()>)>,
}

impl Progress {
    /// Starts a display on standard error if `enabled`.
    pub fn start(enabled: bool) -> Progress {
        if !enabled {
            return Progress { inner: None };
        }
        Progress::with(Box::new(std::io::stderr()), DELAY)
    }

    /// Starts a display on any writer after `delay` (for tests).
    pub fn with(mut out: Box<dyn Write + Send>, delay: Duration) -> Progress {
        let shared: Shared = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let theirs = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name("kanon-progress".into())
            .spawn(move || {
                let started = Instant::now();
                let mut state = lock(&theirs);
                // wait out the delay unless the scan ends first
                while !state.done {
                    let left = delay.saturating_sub(started.elapsed());
                    if left.is_zero() {
                        break;
                    }
                    state = match theirs.1.wait_timeout(state, left) {
                        Ok((s, _)) => s,
                        Err(e) => e.into_inner().0,
                    };
                }
                let mut shown = false;
                let mut tick = 0usize;
                while !state.done {
                    let spin = SPINNER.get(tick % SPINNER.len()).copied().unwrap_or('-');
                    let line = format!(
                        "\r\x1b[2K{spin} kanon: {}… {:.1}s",
                        state.text,
                        started.elapsed().as_secs_f64()
                    );
                    if out.write_all(line.as_bytes()).is_err() || out.flush().is_err() {
                        return;
                    }
                    shown = true;
                    tick += 1;
                    state = match theirs.1.wait_timeout(state, TICK) {
                        Ok((s, _)) => s,
                        Err(e) => e.into_inner().0,
                    };
                }
                if shown {
                    let _ = out.write_all(b"\r\x1b[2K");
                    let _ = out.flush();
                }
            });
        Progress {
            inner: spawned.ok().map(|h| (shared, h)),
        }
    }

    /// Records the stage the scan is in.
    pub fn phase(&self, p: Phase) {
        if let Some((s, _)) = &self.inner {
            lock(s).text = describe(p);
        }
    }

    /// Ends the display and clears its line.
    pub fn finish(self) {
        if let Some((s, handle)) = self.inner {
            lock(&s).done = true;
            s.1.notify_all();
            let _ = handle.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn only_on_a_terminal() {
        assert!(should_show(true, Some("xterm-256color"), false));
        assert!(!should_show(false, Some("xterm"), false));
        assert!(!should_show(true, Some("dumb"), false));
        assert!(!should_show(true, None, true));
        // disabled: nothing runs, nothing is written
        let p = Progress::start(false);
        assert!(p.inner.is_none());
        p.phase(Phase::Loading);
        p.finish();
    }

    #[test]
    fn a_quick_scan_prints_nothing() {
        let sink = Sink::default();
        let p = Progress::with(Box::new(sink.clone()), Duration::from_secs(5));
        p.phase(Phase::Loading);
        p.finish();
        assert!(sink.0.lock().unwrap().is_empty());
    }

    #[test]
    fn a_slow_scan_shows_its_stage_and_clears_the_line() {
        let sink = Sink::default();
        let p = Progress::with(Box::new(sink.clone()), Duration::ZERO);
        p.phase(Phase::Evaluating {
            rules: 3,
            objects: 1,
        });
        std::thread::sleep(Duration::from_millis(300));
        p.finish();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.contains("evaluating 3 rules over 1 object…"),
            "{text:?}"
        );
        assert!(text.ends_with("\r\x1b[2K"), "{text:?}");
    }
}
