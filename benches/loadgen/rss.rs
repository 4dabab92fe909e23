//! Resident memory of the server process, from `/proc/<pid>/status`.

use std::path::PathBuf;

/// Where the server's memory is read from.
#[derive(Debug, Clone)]
pub enum RssSource {
    /// The server runs in this process: the figure includes the load
    /// generator's own memory (its clients, buffers and samples), so it
    /// overstates the server alone.
    OwnProcess,
    External(u32),
    Unknown,
}

impl RssSource {
    /// Resident set size in MiB, if the process can be read.
    pub fn sample_mib(&self) -> Option<f64> {
        let path = match self {
            Self::OwnProcess => PathBuf::from("/proc/self/status"),
            Self::External(pid) => PathBuf::from(format!("/proc/{pid}/status")),
            Self::Unknown => return None,
        };
        let status = std::fs::read_to_string(path).ok()?;
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib / 1024.0)
    }

    pub fn describe(&self) -> String {
        match self {
            Self::OwnProcess => {
                "in-process server: RSS of the whole load generator process (server + clients)"
                    .into()
            }
            Self::External(pid) => format!("external server, pid {pid}"),
            Self::Unknown => "not measured (give --server-pid)".into(),
        }
    }
}
