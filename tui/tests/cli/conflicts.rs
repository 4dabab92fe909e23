//! Concurrent edits of one record on two devices: the conflict is
//! reported (exit code 3), no version is lost, and each of keep mine, keep
//! theirs and keep both works through the binary.

use crate::helpers::{Device, TestServer, names};

/// Both devices edit "doc" from the same revision; the phone's edit
/// conflicts. Returns the record id.
async fn clash(laptop: &Device, phone: &Device, round: u32) -> String {
    laptop.ok(&["sync"]).await;
    phone.ok(&["sync"]).await;
    let theirs = format!("laptop v{round}");
    let mine = format!("phone v{round}");
    laptop.ok(&["edit", "doc", "--text", &theirs]).await;
    let out = phone.run(&["edit", "doc", "--text", &mine]).await;
    assert_eq!(out.code, 3, "{out:#?}");
    assert!(out.stderr.contains("CONFLICT"), "{out:#?}");

    let conflicts = phone.ok(&["conflicts", "--json"]).await.json();
    let conflict = &conflicts.as_array().unwrap()[0];
    assert_eq!(conflict["mine"]["text"]["text"], mine);
    assert_eq!(conflict["theirs"]["text"]["text"], theirs);
    let text = phone.ok(&["conflicts"]).await.stdout;
    assert!(text.contains("differ:  text"), "{text}");
    // Still in conflict: editing again is refused until resolved.
    phone
        .run(&["edit", "doc", "--text", "third"])
        .await
        .fails_with(1, "unresolved conflict");
    conflict["id"].as_str().unwrap().to_owned()
}

async fn texts(device: &Device) -> Vec<String> {
    let list = device.ok(&["list", "--json"]).await.json();
    let mut out = Vec::new();
    for entry in list.as_array().unwrap() {
        let id = entry["id"].as_str().unwrap();
        let text = device.ok(&["get", id, "--field", "text"]).await.stdout;
        out.push(text.trim_end().to_owned());
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_resolution_keeps_what_was_chosen_and_loses_nothing_else() {
    let server = TestServer::start().await;
    let (laptop, phone) = (Device::new(&server), Device::new(&server));
    laptop.ok(&["register", "carol"]).await;
    phone.ok(&["login", "carol"]).await;
    laptop.ok(&["add", "text", "doc", "--text", "base"]).await;

    // Keep theirs: the phone ends up with the laptop's version.
    let id = clash(&laptop, &phone, 1).await;
    phone.ok(&["resolve", &id, "--keep", "theirs"]).await;
    assert_eq!(texts(&phone).await, ["laptop v1"]);
    assert_eq!(texts(&laptop).await, ["laptop v1"]);

    // Keep mine: the phone's version replaces the laptop's everywhere.
    let id = clash(&laptop, &phone, 2).await;
    phone.ok(&["resolve", &id, "--keep", "mine"]).await;
    assert_eq!(texts(&laptop).await, ["phone v2"]);

    // Keep both: the phone's version becomes a second item.
    clash(&laptop, &phone, 3).await;
    let out = phone.ok(&["resolve", "doc", "--keep", "both"]).await;
    assert!(out.stderr.contains("my version is now item"), "{out:#?}");
    assert_eq!(texts(&laptop).await, ["laptop v3", "phone v3"]);
    assert_eq!(texts(&phone).await, ["laptop v3", "phone v3"]);
    // Mine's copy is named apart (by the local date), so "doc" is not
    // ambiguous; a second copy of the same day gets a number.
    let date = jiff::tz::TimeZone::system()
        .to_datetime(jiff::Timestamp::now())
        .date();
    let copy = format!("doc (conflict {date})");
    assert_eq!(names(&phone).await, ["doc", copy.as_str()]);
    let out = phone.ok(&["get", "doc", "--field", "text"]).await;
    assert_eq!(out.stdout.trim_end(), "laptop v3");
    let conflicts = phone.ok(&["conflicts", "--json"]).await.json();
    assert!(conflicts.as_array().unwrap().is_empty());
    clash(&laptop, &phone, 4).await;
    phone.ok(&["resolve", "doc", "--keep", "both"]).await;
    laptop.ok(&["sync"]).await;
    let again = format!("{copy} 2");
    let all = ["doc", copy.as_str(), again.as_str()];
    assert_eq!(names(&phone).await, all);
    assert_eq!(names(&laptop).await, all);
    let out = phone.ok(&["get", &again, "--field", "text"]).await;
    assert_eq!(out.stdout.trim_end(), "phone v4");
    phone
        .run(&["resolve", &id, "--keep", "mine"])
        .await
        .fails_with(1, "no conflict");
}
