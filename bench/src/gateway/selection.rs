//! Which cases a run measures: `AS2_BENCH_CASES`, matched against each case's label by words.

use super::Case;

/// Whether `AS2_BENCH_CASES` selects `case`: every case when unset; otherwise a comma-separated
/// list of entries, and a case is selected by an entry all of whose words (any case) are words
/// of its label (backend, wire and payloads, without what they say in parentheses): `sqlite`
/// is every SQLite case, `files,s3` every
/// PostgreSQL case, `sqlite http inline` the SQLite case over plain HTTP with inline payloads
/// (`http` is not `https`).
pub(super) fn selected(case: &Case<'_>) -> bool {
    let label = format!(
        "{} {} {}",
        case.backend,
        case.wire.label(),
        case.payloads.label()
    );
    std::env::var("AS2_BENCH_CASES").map_or(true, |list| selects(&list, &label))
}

/// Whether the entries of `list` select the case labelled `label` (see [`selected`]).
fn selects(list: &str, label: &str) -> bool {
    // what a label says in parentheses is a remark, not a word of it ("objects (inline 0)")
    let label: String = label
        .to_lowercase()
        .split('(')
        .map(|part| part.split_once(')').map_or(part, |(_, rest)| rest))
        .collect();
    let words: Vec<&str> = label
        .split(|c: char| !c.is_alphanumeric() && c != '-')
        .filter(|w| !w.is_empty())
        .collect();
    list.split(',').any(|entry| {
        let mut wanted = entry.split_whitespace().peekable();
        wanted.peek().is_some() && wanted.all(|w| words.contains(&w.to_lowercase().as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::selects;

    const SQLITE_INLINE: &str = "SQLite HTTP inline ≤ 64 KiB";
    const SQLITE_OBJECTS: &str = "SQLite HTTP objects (inline 0)";
    const SQLITE_TLS: &str = "SQLite HTTPS, keep-alive inline ≤ 64 KiB";
    const PG_FILES: &str = "PostgreSQL, files HTTP inline ≤ 64 KiB";

    #[test]
    fn an_entry_selects_the_cases_that_have_all_its_words() {
        assert!(selects("sqlite", SQLITE_TLS) && selects("SQLite", SQLITE_OBJECTS));
        assert!(!selects("sqlite", PG_FILES));
        assert!(selects("sqlite,files", PG_FILES));
        assert!(selects("sqlite http inline", SQLITE_INLINE));
        // neither `https` nor a remark in parentheses is the word asked for
        assert!(!selects("sqlite http inline", SQLITE_TLS));
        assert!(!selects("sqlite http inline", SQLITE_OBJECTS));
        assert!(selects("keep-alive", SQLITE_TLS));
        assert!(!selects(" , ", SQLITE_INLINE));
    }
}
