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

    // Too short, and the two prompts are skipped by the env var.
    laptop
        .cmd(&["passwd"])
        .env("GOPHKEEPER_NEW_PASSWORD", "short")
        .run()
        .await
        .fails_with(1, "at least 8 characters");
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
