use super::*;

fn grid(text: &str) -> Grid {
    Grid::from_toml(text, "test").expect("valid grid")
}

fn refusal(text: &str) -> String {
    Grid::from_toml(text, "test").unwrap_err().problem
}

#[test]
fn lists_and_ranges_become_axes_in_file_order() {
    let g = grid(
        "[strategy]\nsma_slow = [50, 100]\nsma_fast = { from = 5, to = 20, step = 5 }\n\
         [venue]\nfee_bps = { from = 0.1, to = 0.3, step = 0.1 }\n",
    );
    let keys: Vec<&str> = g.axes.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(
        keys,
        ["strategy.sma_slow", "strategy.sma_fast", "venue.fee_bps"]
    );
    assert_eq!(
        g.axes[1].values,
        [5, 10, 15, 20].map(Value::Integer).to_vec()
    );
    // No drift: 0.1 + 2 × 0.1 is 0.3, and `to` is kept.
    assert_eq!(g.axes[2].values, [0.1, 0.2, 0.3].map(Value::Float).to_vec());
    assert_eq!(g.cell_count(), Ok(2 * 4 * 3));
}

#[test]
fn cells_enumerate_every_combination_last_key_fastest() {
    let g = grid("[strategy]\nsma_fast = [5, 10]\nsma_slow = [50, 100, 200]\n");
    let cells = g.cells(None, 0).unwrap();
    assert_eq!(cells.len(), 6);
    assert_eq!(
        cells[1].values,
        vec![
            ("strategy.sma_fast".to_string(), Value::Integer(5)),
            ("strategy.sma_slow".to_string(), Value::Integer(100)),
        ]
    );
    assert_eq!(cells[3].values[0].1, Value::Integer(10));
    assert_eq!(cells[3].values[1].1, Value::Integer(50));
}

#[test]
fn samples_are_distinct_sorted_and_repeatable_by_seed() {
    let g = grid("[strategy]\nsma_fast = { from = 1, to = 100, step = 1 }\nsma_slow = { from = 101, to = 200, step = 1 }\n");
    let a = g.cells(Some(50), 7).unwrap();
    let b = g.cells(Some(50), 7).unwrap();
    let c = g.cells(Some(50), 8).unwrap();
    let index = |cells: &[Cell]| cells.iter().map(|c| c.index).collect::<Vec<_>>();
    assert_eq!(index(&a), index(&b));
    assert_ne!(index(&a), index(&c));
    let ia = index(&a);
    assert_eq!(ia.len(), 50);
    assert!(ia.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
    // Asking for more than there are gives all of them.
    assert_eq!(g.cells(Some(20_000), 1).unwrap().len(), 10_000);
}

#[test]
fn bad_grids_are_refused_naming_the_key() {
    assert!(refusal("[strategy]\nsma_fast = []\n").contains("`strategy.sma_fast` lists no values"));
    assert!(
        refusal("[strategy]\nsma_fast = { from = 10, to = 5, step = 1 }\n")
            .contains("`strategy.sma_fast`")
    );
    assert!(refusal("[strategy]\nsma_fast = { from = 1, to = 5 }\n").contains("needs `step`"));
    assert!(refusal("[data]\ncandles = []\n").contains("data.symbols"));
    assert!(refusal("[data]\nsymbols = [\"BTCUSDT\"]\n").contains("lists of symbols"));
    assert!(refusal("").contains("no keys"));
    // Malformed TOML: toml's own message, with the line.
    assert!(
        refusal("[strategy\n").contains("line 1"),
        "{}",
        refusal("[strategy\n")
    );
}

#[test]
fn a_huge_grid_needs_samples() {
    let g =
        grid("[a]\nx = { from = 1, to = 2000, step = 1 }\ny = { from = 1, to = 2000, step = 1 }\n");
    assert!(g.cells(None, 0).unwrap_err().contains("--samples"));
    assert_eq!(g.cells(Some(3), 0).unwrap().len(), 3);
}
