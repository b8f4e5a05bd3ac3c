use super::*;

fn record(index: u64) -> CellRecord {
    let mut metrics = Map::new();
    metrics.insert("sharpe".into(), Value::from(index as f64 / 10.0));
    CellRecord {
        index,
        id: format!("id{index}"),
        outcome: Outcome::Ran { metrics },
    }
}

#[test]
fn finished_cells_survive_a_reopen_and_a_torn_last_line_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut store, done) = Store::open(dir.path(), "fp", "base.toml").unwrap();
        assert!(done.is_empty());
        store.append(&record(0)).unwrap();
        store.append(&record(1)).unwrap();
    }
    // A kill in the middle of writing a line leaves half of it.
    let path = dir.path().join("cells.jsonl");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"index\":2,\"id\":\"id2\",\"sta");
    std::fs::write(&path, text).unwrap();

    let (mut store, done) = Store::open(dir.path(), "fp", "base.toml").unwrap();
    assert_eq!(done.len(), 2);
    assert_eq!(done["id1"], record(1));
    // Appending after the repair starts on a line of its own.
    store.append(&record(2)).unwrap();
    drop(store);
    let (_, done) = Store::open(dir.path(), "fp", "base.toml").unwrap();
    assert_eq!(done.len(), 3);
    assert_eq!(done["id2"], record(2));
}

#[test]
fn a_folder_of_another_sweep_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    Store::open(dir.path(), "fp-a", "a.toml").unwrap();
    let err = Store::open(dir.path(), "fp-b", "b.toml").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("another sweep"), "{text}");
    assert!(text.contains("a.toml"), "{text}");
}
