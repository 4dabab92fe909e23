//! Search as you type: which entries match the query and the kind filter,
//! best first. Fuzzy, as in helix or fzf (nucleo's matcher), over the name
//! and the non-secret parts (user name, URLs, file name, card holder), so
//! "ghub" finds "GitHub". Secrets are never searched: a match would leak
//! them one keystroke at a time to someone watching the list.

use gophkeeper_client::item::{ItemKind, Payload};
use gophkeeper_client::vault::Entry;
use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

/// Indexes into `entries` of those that match, best match first; with an
/// empty query, all of the kind in their (name) order.
pub fn filter(entries: &[Entry], query: &str, kind: Option<ItemKind>) -> Vec<usize> {
    let of_kind = |e: &Entry| kind.is_none_or(|k| e.item.kind() == k);
    if query.trim().is_empty() {
        return (0..entries.len())
            .filter(|&i| of_kind(&entries[i]))
            .collect();
    }
    let mut matcher = Matcher::new(Config::DEFAULT);
    let pattern = Pattern::new(
        query,
        CaseMatching::Smart,
        Normalization::Smart,
        AtomKind::Fuzzy,
    );
    let mut buf = Vec::new();
    let mut scored: Vec<(u32, usize)> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| of_kind(e))
        .filter_map(|(i, e)| {
            let haystack = searchable(e);
            let score = pattern.score(Utf32Str::new(&haystack, &mut buf), &mut matcher)?;
            Some((score, i))
        })
        .collect();
    // Best first; equal scores keep the list's order.
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, i)| i).collect()
}

/// The name first (it matters most), then the other public parts.
fn searchable(entry: &Entry) -> String {
    let item = &entry.item;
    let extra = match &item.payload {
        Payload::Login { username, urls, .. } => format!("{username} {}", urls.join(" ")),
        Payload::Binary { file_name, .. } => file_name.clone(),
        Payload::Card { holder, .. } => holder.clone(),
        Payload::Text { .. } => String::new(),
    };
    format!("{} {extra}", item.name)
}

#[cfg(test)]
mod tests {
    use gophkeeper_client::item::{CardExpiry, Item};
    use gophkeeper_client::vault::EntryState;
    use uuid::Uuid;

    use super::*;

    pub fn login(name: &str, user: &str, password: &str) -> Entry {
        entry(Item::new(
            name,
            Payload::Login {
                username: user.into(),
                password: password.into(),
                urls: vec![format!("{}.example", name.to_lowercase())],
                totp: None,
            },
        ))
    }

    fn entry(item: Item) -> Entry {
        Entry {
            id: Uuid::new_v4(),
            revision: 1,
            state: EntryState::Synced,
            updated_at_ms: 0,
            item,
        }
    }

    fn names(entries: &[Entry], found: &[usize]) -> Vec<String> {
        found
            .iter()
            .map(|&i| entries[i].item.name.clone())
            .collect()
    }

    fn sample() -> Vec<Entry> {
        vec![
            login("Bank", "me", "hunter2"),
            login("GitHub", "octo", "s3cret"),
            login("Gitea", "me", "pw"),
            entry(Item::new(
                "Visa",
                Payload::Card {
                    holder: "Ann Smith".into(),
                    number: "4111 1111 1111 1111".into(),
                    expiry: CardExpiry { month: 1, year: 30 },
                    cvv: "123".into(),
                },
            )),
            entry(Item::new(
                "Diary",
                Payload::Text {
                    text: "github is where I keep code".into(),
                },
            )),
        ]
    }

    #[test]
    fn empty_query_keeps_everything_in_order() {
        let entries = sample();
        assert_eq!(filter(&entries, "", None), vec![0, 1, 2, 3, 4]);
        assert_eq!(filter(&entries, "  ", None), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn fuzzy_matches_best_first() {
        let entries = sample();
        assert_eq!(names(&entries, &filter(&entries, "ghub", None)), ["GitHub"]);
        let git = names(&entries, &filter(&entries, "git", None));
        assert_eq!(git.len(), 2, "{git:?}");
        assert!(git.contains(&"GitHub".to_owned()) && git.contains(&"Gitea".to_owned()));
        assert_eq!(names(&entries, &filter(&entries, "octo", None)), ["GitHub"]);
        assert_eq!(names(&entries, &filter(&entries, "smith", None)), ["Visa"]);
        assert!(filter(&entries, "zzzz", None).is_empty());
    }

    #[test]
    fn secrets_and_text_bodies_are_not_searched() {
        let entries = sample();
        assert!(filter(&entries, "hunter2", None).is_empty());
        assert!(filter(&entries, "4111", None).is_empty());
        // The diary's text mentions github; only the login is found.
        assert_eq!(
            names(&entries, &filter(&entries, "github", None)),
            ["GitHub"]
        );
    }

    #[test]
    fn the_kind_filter_applies_with_and_without_a_query() {
        let entries = sample();
        assert_eq!(
            names(&entries, &filter(&entries, "", Some(ItemKind::Card))),
            ["Visa"]
        );
        assert!(filter(&entries, "git", Some(ItemKind::Text)).is_empty());
        assert_eq!(
            filter(&entries, "", Some(ItemKind::Binary)),
            Vec::<usize>::new()
        );
    }
}
