//! Tests of `miner`.

use super::*;

fn run(lines: &[&str]) -> Mined {
    mine(lines, &MinerConfig::default())
}

fn template_of(m: &Mined, line: usize) -> &str {
    &m.templates[m.cluster_of_line[line] as usize]
}

#[test]
fn empty_and_odd_input() {
    assert_eq!(run(&[]), Mined::default());
    let huge = "x1 ".repeat(50_000);
    let m = run(&["", "   ", "\u{0}\u{7f}", &huge, "<*> <*>", "é"]);
    assert_eq!(m.cluster_of_line.len(), 6);
    assert_eq!(m.cluster_of_line[0], m.cluster_of_line[1]);
    assert_eq!(template_of(&m, 0), "");
}

#[test]
fn ids_follow_first_appearance() {
    let m = run(&["b happened 1", "a happened", "b happened 2"]);
    assert_eq!(m.cluster_of_line, vec![0, 1, 0]);
    assert_eq!(m.templates, vec!["b happened <*>", "a happened"]);
}

#[test]
fn deterministic() {
    let lines: Vec<String> = (0..500)
        .map(|i| match i % 4 {
            0 => format!(
                "Received block blk_{i} of size {} from /10.0.0.{}",
                i * 7,
                i % 250
            ),
            1 => format!("session opened for user u{} by (uid={i})", i % 9),
            2 => format!(
                "Worker {} finished job {i} in {}ms",
                ["alpha", "beta"][i % 2],
                i
            ),
            _ => format!(
                "state changed from {} to {}",
                ["A", "B", "C"][i % 3],
                ["X", "Y"][i % 2]
            ),
        })
        .collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let first = run(&refs);
    for _ in 0..3 {
        assert_eq!(run(&refs), first);
    }
}

#[test]
fn early_lines_get_the_final_template() {
    // The first line alone would be its own constant template; later lines generalise it.
    let m = run(&["Deleting file a1", "Deleting file b2", "Deleting file c3"]);
    assert_eq!(m.templates, vec!["Deleting file <*>"]);
    assert_eq!(template_of(&m, 0), "Deleting file <*>");
    // A word slot generalises only in the final template, after later lines arrive.
    let m = run(&["Took 3 seconds to spawn", "Took 4 seconds to spawn"]);
    assert_eq!(m.cluster_of_line, vec![0, 0]);
    assert_eq!(m.templates, vec!["Took <*> seconds to spawn"]);
}

#[test]
fn one_text_at_two_places_in_the_source_is_two_statements() {
    let line = |loc: &str, t: u32| {
        format!("INFO t.s.TravelServiceImpl#{loc} [getTickets][calculate time: {t}]")
    };
    let lines: Vec<String> = (0..6)
        .map(|i| line(if i % 2 == 0 { "451" } else { "457" }, i * 7))
        .collect();
    let m = run(&lines.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(m.cluster_of_line, vec![0, 1, 0, 1, 0, 1]);
    assert_eq!(
        m.templates[1],
        "INFO t.s.TravelServiceImpl#457 [getTickets][calculate time: <*>]"
    );
}

#[test]
fn different_words_are_different_statements() {
    let m = run(&[
        "[instance: 3f2a-11] VM Resumed (Lifecycle Event)",
        "[instance: 9b1c-22] VM Paused (Lifecycle Event)",
        "[instance: 7d4e-33] VM Resumed (Lifecycle Event)",
        "[instance: 7d4e-33] Deleting instance files /var/lib/x",
    ]);
    assert_eq!(m.cluster_of_line, vec![0, 1, 0, 2]);
    assert_eq!(
        m.templates[0],
        "[instance: <*>] VM Resumed (Lifecycle Event)"
    );
}

#[test]
fn many_values_in_one_slot_are_a_variable() {
    let users = ["alice", "bob", "carol", "dave", "erin", "alice"];
    let lines: Vec<String> = users
        .iter()
        .map(|u| format!("session closed for user {u}"))
        .collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let m = run(&refs);
    assert_eq!(m.templates, vec!["session closed for user <*>"]);
    // Two values are not enough evidence: they stay two statements.
    let m = run(&["link state Up on port", "link state Down on port"]);
    assert_eq!(m.templates.len(), 2);
}

#[test]
fn few_frequent_words_are_values_where_they_vary_elsewhere() {
    let mut lines: Vec<String> = Vec::new();
    for _ in 0..5 {
        for u in ["cyrus", "news", "test"] {
            lines.push(format!("session opened for user {u} by (uid=0)"));
            lines.push(format!("session closed for user {u}"));
        }
        lines.push("link state Up on port".into());
        lines.push("link state Down on port".into());
    }
    lines.push("session closed for user root".into());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let m = run(&refs);
    // Three accounts, each frequent, would be an enumeration on their own; the closing
    // statement shows them as the values of a variable, rare `root` among them.
    assert_eq!(
        template_of(&m, 0),
        "session opened for user <*> by (uid=<*>)"
    );
    assert_eq!(m.cluster_of_line[0], m.cluster_of_line[2]);
    assert_eq!(template_of(&m, 1), "session closed for user <*>");
    // States nobody saw vary elsewhere stay an enumeration.
    assert_ne!(m.cluster_of_line[6], m.cluster_of_line[7]);
}

#[test]
fn dotted_names_and_key_values() {
    let m = run(&[
        "com.example.sync: scheduler told me to run this job",
        "org.other.Daemon: scheduler told me to run this job",
        "authentication failure; uid=0 rhost=10.1.2.3 user=root",
        "authentication failure; uid=0 rhost=10.9.2.3 user=root",
        "authentication failure; uid=0 rhost=10.1.2.4 user=guest",
    ]);
    assert_eq!(m.cluster_of_line, vec![0, 0, 1, 1, 2]);
    assert_eq!(m.templates[0], "<*> scheduler told me to run this job");
    assert_eq!(
        m.templates[1],
        "authentication failure; uid=<*> rhost=<*> user=root"
    );
}

#[test]
fn mine_lines_uses_content_and_keeps_unmatched_lines() {
    let f = LogFormat::parse("<Date> <Level>: <Content>").unwrap();
    let lines = [
        "2024-01-01 INFO: started worker 1",
        "garbage line",
        "2024-01-02 WARN: started worker 2",
    ];
    let m = mine_lines(&lines, Some(&f), &MinerConfig::default());
    assert_eq!(m.cluster_of_line, vec![0, 1, 0]);
    assert_eq!(m.templates, vec!["started worker <*>", "garbage line"]);
    let whole = mine_lines(&lines, None, &MinerConfig::default());
    assert_eq!(whole.cluster_of_line.len(), 3);
}
