//! `completions` and `man`: generated from the parser's own definition,
//! they need no profile and list the commands there are.

use tokio::process::Command;

use crate::helpers::{Device, TestServer};

/// Runs bash completion for the words typed so far; returns the offers.
async fn bash_offers(script: &str, words: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gophkeeper.bash");
    std::fs::write(&path, script).unwrap();
    let typed = words
        .iter()
        .map(|w| format!("'{w}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let cword = words.len() - 1;
    let (current, previous) = (words[cword], words[cword.saturating_sub(1)]);
    let snippet = format!(
        "source '{}'; COMP_WORDS=({typed}); COMP_CWORD={cword}; \
         _gophkeeper gophkeeper '{current}' '{previous}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        path.display()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(snippet)
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_and_the_manual_come_from_the_parser() {
    let server = TestServer::start().await;
    let device = Device::new(&server);
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = device.ok(&["completions", shell]).await.stdout;
        for command in ["register", "sessions", "completions", "man"] {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
    }

    // The bash script really completes, in bash.
    let bash = device.ok(&["completions", "bash"]).await.stdout;
    assert_eq!(
        bash_offers(&bash, &["gophkeeper", "ses"]).await,
        ["sessions"]
    );
    let shells = bash_offers(&bash, &["gophkeeper", "completions", ""]).await;
    for shell in ["bash", "zsh", "fish", "powershell"] {
        assert!(shells.iter().any(|s| s == shell), "{shells:?}");
    }

    let page = device.ok(&["man"]).await.stdout;
    assert!(page.starts_with(".ie") || page.starts_with(".TH"), "{page}");
    assert!(page.contains(".TH gophkeeper 1"), "{page}");
    for command in ["register", "sessions", "export"] {
        assert!(page.contains(command), "the manual lacks {command}");
    }

    // --version names the exact build.
    let version = device.ok(&["--version"]).await.stdout;
    assert_eq!(
        version,
        format!("gophkeeper {}\n", gophkeeper_build_info::version!())
    );
    assert!(
        version.contains(std::env::consts::ARCH) && version.contains(std::env::consts::OS),
        "{version}"
    );

    // Nothing was created on the way.
    assert!(!device.profile().join("cache.db").exists());
    device
        .run(&["completions", "tcsh"])
        .await
        .fails_with(2, "invalid value 'tcsh'");
}
