//! `audit`: weak, reused and year-old passwords and logins without TOTP
//! are named, by item, never by password; a password change restamps the
//! item, another edit does not.

use crate::helpers::{Device, TestServer};

const STRONG: &str = "lantern-quietly-copper-zebra-41";
const SHARED: &str = "river-falcon-window-9-orchid";

fn names(list: &serde_json::Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_names_weak_reused_and_totp_less_logins_never_a_password() {
    let server = TestServer::start().await;
    let device = Device::new(&server);
    device.ok(&["register", "vera"]).await;
    let totp = ["--totp", "JBSWY3DPEHPK3PXP"];
    let login = |name: &'static str, password: &'static str, with_totp: bool| {
        let mut args = vec![
            "add",
            "login",
            name,
            "--username",
            "vera",
            "--password",
            password,
        ];
        if with_totp {
            args.extend(totp);
        }
        args
    };
    device.ok(&login("mail", STRONG, true)).await;
    device.ok(&login("bank", "password1", true)).await;
    device.ok(&login("shop", SHARED, false)).await;
    device.ok(&login("forum", SHARED, true)).await;
    device
        .ok(&["add", "text", "note", "--text", "password"])
        .await;

    let out = device.cmd(&["audit", "--json"]).run().await.ok();
    let report = out.json();
    assert_eq!(report["logins"], 4, "{report}");
    assert_eq!(names(&report["weak"]), ["bank"]);
    assert!(report["weak"][0]["score"].as_u64().unwrap() < 3);
    assert_eq!(report["reused"].as_array().unwrap().len(), 1);
    assert_eq!(names(&report["reused"][0]), ["forum", "shop"]);
    assert_eq!(names(&report["without_totp"]), ["shop"]);
    // Every password was just set.
    assert_eq!(names(&report["old"]), Vec::<String>::new());

    let text = device.ok(&["audit"]).await.stdout;
    for expected in [
        "audited 4 login(s)",
        "weak passwords (1)",
        "bank",
        "forum, shop",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
    for output in [&text, &out.stdout] {
        for secret in ["password1", SHARED, STRONG] {
            assert!(!output.contains(secret), "{secret} shown: {output}");
        }
    }

    // Fixed: a new password for the bank, another for the shop.
    device
        .ok(&[
            "edit",
            "bank",
            "--password",
            "orchid-lantern-7-quietly-river",
        ])
        .await;
    device
        .ok(&["edit", "shop", "--password", "copper-window-falcon-3-zebra"])
        .await;
    device
        .ok(&["edit", "shop", "--totp", "JBSWY3DPEHPK3PXP"])
        .await;
    let clean = device.ok(&["audit"]).await.stdout;
    assert!(
        clean.contains("no weak, reused or year-old passwords"),
        "{clean}"
    );
}
