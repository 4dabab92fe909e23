//! Server stopped: `list` and `get` still work from the local copy, an
//! `add` is queued (exit 0, and it says so), and after the server is back
//! the queued item reaches the other device.

use crate::helpers::{Device, TestServer, names};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_work_offline_and_an_offline_add_reaches_the_other_device_later() {
    let mut server = TestServer::start().await;
    let (laptop, phone) = (Device::new(&server), Device::new(&server));
    laptop.ok(&["register", "olga"]).await;
    phone.ok(&["login", "olga"]).await;
    laptop
        .ok(&[
            "add",
            "login",
            "Bank",
            "--username",
            "olga",
            "--password",
            "b4nk",
        ])
        .await;

    server.stop().await;
    let out = laptop.ok(&["list"]).await;
    assert!(out.stdout.contains("Bank"), "{out:#?}");
    assert!(out.stderr.contains("offline"), "{out:#?}");
    let pw = laptop.ok(&["get", "Bank", "--field", "password"]).await;
    assert_eq!(pw.stdout, "b4nk\n");

    let out = laptop
        .ok(&[
            "add",
            "text",
            "Offline note",
            "--text",
            "written on a plane",
        ])
        .await;
    assert!(out.stderr.contains("queued"), "{out:#?}");
    let list = laptop.ok(&["list", "--json"]).await.json();
    let note = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "Offline note")
        .unwrap()
        .clone();
    assert_eq!(note["state"], "pending");
    let status = laptop.ok(&["status", "--json"]).await.json();
    assert_eq!(
        (status["pending"].as_u64(), status["online"].as_bool()),
        (Some(1), Some(false))
    );
    laptop
        .run(&["sync"])
        .await
        .fails_with(1, "cannot reach the server");

    server.restart().await;
    let out = laptop.ok(&["sync"]).await;
    assert!(out.stderr.contains("1 change(s) sent"), "{out:#?}");
    assert_eq!(names(&phone).await, ["Bank", "Offline note"]);
    let text = phone.ok(&["get", "Offline note", "--field", "text"]).await;
    assert_eq!(text.stdout, "written on a plane\n");
    let status = laptop.ok(&["status", "--json"]).await.json();
    assert_eq!(status["pending"], 0);
}
