//! A progress line on stderr for long scans: only on a terminal, only after a second, never in
//! CI (`CI` set) — so logs and pipes stay clean.

use std::io::{IsTerminal, Write};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A running progress indicator; silent unless the scan is slow and stderr is a terminal.
pub struct Progress {
    phase: Arc<Mutex<&'static str>>,
    stop: Option<(Sender<()>, JoinHandle<()>)>,
}

impl Progress {
    /// Starts the indicator (a no-op when not wanted).
    pub fn start() -> Self {
        let phase = Arc::new(Mutex::new("starting"));
        let wanted = std::io::stderr().is_terminal()
            && std::env::var_os("CI").is_none()
            && std::env::var_os("CELADOR_NO_PROGRESS").is_none();
        if !wanted {
            return Self { phase, stop: None };
        }
        // CELADOR_PROGRESS_DELAY_MS shortens the wait (tests); a second keeps quick runs quiet.
        let delay = Duration::from_millis(
            std::env::var("CELADOR_PROGRESS_DELAY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000),
        );
        let (tx, rx) = mpsc::channel();
        let shown = phase.clone();
        let handle = std::thread::spawn(move || {
            let started = Instant::now();
            let draw = |phase: &Mutex<&'static str>| {
                let phase = *phase.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let _ = write!(std::io::stderr(), "\r\x1b[2Kcelador: {phase}… {:.1}s", started.elapsed().as_secs_f32());
            };
            // With no delay the line is drawn before anything else, whatever the scan's speed.
            let mut drawn = delay.is_zero();
            if drawn {
                draw(&shown);
            }
            // Draw after a second, then every 200 ms, until told to stop (or the sender is gone).
            while let Err(RecvTimeoutError::Timeout) =
                rx.recv_timeout(Duration::from_millis(if drawn { 200 } else { 1000 }))
            {
                draw(&shown);
                drawn = true;
            }
            if drawn {
                let _ = write!(std::io::stderr(), "\r\x1b[2K");
            }
        });
        Self { phase, stop: Some((tx, handle)) }
    }

    /// Names what the scan is doing now.
    pub fn phase(&self, phase: &'static str) {
        *self.phase.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = phase;
    }

    /// Clears the line and stops.
    pub fn finish(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        if let Some((tx, handle)) = self.stop.take() {
            let _ = tx.send(());
            let _ = handle.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop_thread();
    }
}
