//! What a long-running process holding the vault key does to itself first:
//! no core dumps, so a crash does not write the key and decrypted items to
//! disk, and (on Linux) no other process of the same user may attach a
//! debugger or read its memory through /proc.
//!
//! Unix: the core-file limit goes to 0 (soft and hard, so a child cannot
//! raise it back); on Linux the process is also marked not dumpable
//! (`PR_SET_DUMPABLE` 0), which covers a core pattern that pipes dumps to
//! a handler and forbids `ptrace` by the same user. Windows: nothing here;
//! Windows Error Reporting's dumps are a system setting.

/// Turns core dumps off for this process. Called before the vault is
/// unlocked; an error means the protection is not in place.
pub fn forbid_core_dumps() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, setrlimit};
        let none = Rlimit {
            current: Some(0),
            maximum: Some(0),
        };
        setrlimit(Resource::Core, none)?;
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)?;
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use rustix::process::{DumpableBehavior, Resource, dumpable_behavior, getrlimit};

    /// In a child process, so the test binary itself stays debuggable.
    #[test]
    fn a_hardened_process_has_no_core_limit_and_is_not_dumpable() {
        if std::env::var_os("GOPHKEEPER_HARDENING_CHILD").is_some() {
            assert_eq!(dumpable_behavior().unwrap(), DumpableBehavior::Dumpable);
            super::forbid_core_dumps().unwrap();
            let limit = getrlimit(Resource::Core);
            assert_eq!((limit.current, limit.maximum), (Some(0), Some(0)));
            assert_eq!(dumpable_behavior().unwrap(), DumpableBehavior::NotDumpable);
            return;
        }
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "hardening::tests::a_hardened_process_has_no_core_limit_and_is_not_dumpable",
                "--nocapture",
            ])
            .env("GOPHKEEPER_HARDENING_CHILD", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{out:?}");
        assert!(stdout.contains("1 passed"), "{stdout}");
    }
}
