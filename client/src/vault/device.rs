//! The name a device's session shows under in `sessions`, so that a person
//! can tell their devices apart. One function for every user interface:
//! two with different fallbacks made one machine show under two names.

/// `"<program> on <host>"`, or just the program where the host has no name.
pub fn device_name(program: &str) -> String {
    name_for(program, &host_name())
}

fn name_for(program: &str, host: &str) -> String {
    let host = host.trim();
    if host.is_empty() {
        program.to_owned()
    } else {
        format!("{program} on {host}")
    }
}

/// The operating system's own answer (what `hostname` prints), not the
/// `HOSTNAME` variable, which shells set but rarely export.
fn host_name() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_program_and_the_host() {
        assert_eq!(
            name_for("gophkeeper CLI", "laptop\n"),
            "gophkeeper CLI on laptop"
        );
        assert_eq!(name_for("gophkeeper vault", "  "), "gophkeeper vault");
    }

    #[test]
    fn the_host_is_the_one_the_system_reports() {
        let host = host_name();
        assert!(!host.trim().is_empty(), "this machine has a host name");
        assert_eq!(device_name("x"), format!("x on {}", host.trim()));
        // The CLI and the full-screen vault agree on the machine.
        let cli = device_name("gophkeeper CLI");
        let tui = device_name("gophkeeper vault");
        assert_eq!(
            cli.split_once(" on "),
            Some(("gophkeeper CLI", host.trim()))
        );
        assert_eq!(tui.split_once(" on ").map(|(_, h)| h), Some(host.trim()));
    }
}
