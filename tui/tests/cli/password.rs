//! A password change on one device: the other device must log in again
//! (a clear message, exit code 1), and after it does every record still
//! decrypts, with the new password only.

use crate::helpers::{Device, PASSWORD, TestServer};

const NEW: &str = "a much longer new master passphrase";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_password_change_the_other_device_logs_in_again_and_reads_everything() {
    let server = TestServer::start().await;
    let (laptop, mut phone) = (Device::new(&server), Device::new(&server));
    laptop.ok(&["register", "dan"]).await;
    phone.ok(&["login", "dan"]).await;
    laptop
        .ok(&[
            "add",
            "login",
            "Mail",
            "--username",
            "dan",
            "--password",
            "pw1",
        ])
        .await;
    laptop.ok(&["add", "text", "Note", "--text", "n1"]).await;
    laptop
        .ok(&[
            "add",
            "card",
            "Card",
            "--number",
            "4111 1111 1111 1111",
            "--expiry",
            "01/30",
            "--holder",
            "Dan",
            "--cvv",
            "123",
        ])
        .await;
    phone.ok(&["sync"]).await;

    // Too weak (the two prompts are skipped by the env var): refused with
    // the reason and zxcvbn's advice, never echoing it, and nothing
    // changes (the old password keeps working below).
    for (weak, why) in [
        ("short", "fewer than 12 characters"),
        ("passwordpassword", "estimated strength is 0 of 4"),
        ("dan2026dandan", "It is built on the user name"),
    ] {
        let out = laptop
            .cmd(&["passwd"])
            .env("GOPHKEEPER_NEW_PASSWORD", weak)
            .run()
            .await
            .fails_with(1, why);
        assert!(
            out.stderr.contains("the master password was not changed"),
            "{out:#?}"
        );
        assert!(out.stderr.contains("at least 12 characters"), "{out:#?}");
        assert!(!out.stderr.contains(weak), "{out:#?}");
    }
    // A wrong current password changes nothing.
    laptop
        .cmd(&["passwd"])
        .env("GOPHKEEPER_PASSWORD", "not it at all")
        .env("GOPHKEEPER_NEW_PASSWORD", NEW)
        .run()
        .await
        .fails_with(1, "wrong master password");
    let out = laptop
        .cmd(&["passwd"])
        .env("GOPHKEEPER_NEW_PASSWORD", NEW)
        .run()
        .await
        .ok();
    assert!(
        out.stderr.contains("Other devices must log in again"),
        "{out:#?}"
    );

    // The phone's copy still opens with the old password, but its session
    // is over: every command that reaches the server says to log in.
    phone
        .run(&["list"])
        .await
        .fails_with(1, "this device must log in again");
    phone
        .run(&["sync"])
        .await
        .fails_with(1, "gophkeeper login dan");
    // With the new password the old local copy does not open yet.
    phone.password = NEW.into();
    phone.run(&["list"]).await.fails_with(
        1,
        "log this device in with the new one: gophkeeper login dan",
    );
    // The old password no longer logs in.
    phone
        .cmd(&["login", "dan"])
        .env("GOPHKEEPER_PASSWORD", PASSWORD)
        .run()
        .await
        .fails_with(1, "wrong user name or master password");

    phone.ok(&["login", "dan"]).await;
    let list = phone.ok(&["list", "--json"]).await.json();
    assert_eq!(list.as_array().unwrap().len(), 3);
    for entry in list.as_array().unwrap() {
        let full = phone
            .ok(&["get", entry["id"].as_str().unwrap(), "--json"])
            .await
            .json();
        assert_eq!(full["name"], entry["name"]);
    }
    let pw = phone.ok(&["get", "Mail", "--field", "password"]).await;
    assert_eq!(pw.stdout, "pw1\n");
    let cvv = phone.ok(&["get", "Card", "--field", "cvv"]).await;
    assert_eq!(cvv.stdout, "123\n");
    // The laptop goes on with the new password too.
    let mut laptop = laptop;
    laptop.password = NEW.into();
    laptop.ok(&["add", "text", "After", "--text", "n2"]).await;
    assert_eq!(
        phone.ok(&["get", "After", "--field", "text"]).await.stdout,
        "n2\n"
    );
}

/// A weak master password at registration: refused with zxcvbn's advice
/// and the rule, exit code 1, no account on the server and no profile on
/// disk; a strong one then gets the same name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weak_master_password_makes_no_account() {
    let server = TestServer::start().await;
    let mut device = Device::new(&server);
    for (weak, why) in [
        ("hunter2", "fewer than 12 characters"),
        (
            "passwordpassword",
            "Repeats like \"abcabcabc\" are only slightly harder",
        ),
        ("walter2026walter", "It is built on the user name"),
    ] {
        device.password = weak.into();
        let out = device.run(&["register", "walter"]).await.fails_with(1, why);
        for part in [
            "cannot register \"walter\"",
            "the master password is too weak",
            "at least 12 characters and a strength estimate (zxcvbn) of at least 3 of 4",
        ] {
            assert!(out.stderr.contains(part), "{part}: {out:#?}");
        }
        assert!(!out.stderr.contains(weak), "{out:#?}");
        assert!(out.stdout.is_empty(), "{out:#?}");
        let files: Vec<_> = std::fs::read_dir(device.profile()).unwrap().collect();
        assert!(files.is_empty(), "nothing on disk: {files:?}");
    }
    device.password = PASSWORD.into();
    let out = device.ok(&["register", "walter"]).await;
    assert!(out.stderr.contains("Registered \"walter\""), "{out:#?}");
}
