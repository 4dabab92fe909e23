//! Structured logs. Handlers log ids, sizes and outcomes, never tokens, keys
//! or ciphertext; the noisy transport crates are held at `warn` so that
//! their debug output (which can include headers) stays out by default.

use tracing_subscriber::EnvFilter;

use crate::settings::{LogFormat, LogSettings};

pub fn init(settings: &LogSettings) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|value| EnvFilter::try_new(value).ok())
        .unwrap_or_else(|| {
            EnvFilter::new(format!(
                "{},h2=warn,hyper=warn,hyper_util=warn,tower=warn,sqlx=warn,rustls=warn",
                settings.filter
            ))
        });
    // Logs go to stderr so that stdout stays free for anything a wrapper
    // script wants to parse.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    let _ = match settings.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// An error and its sources, `: `-separated, for one log line.
pub(crate) struct ErrorChain<'a>(pub &'a dyn std::error::Error);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}
