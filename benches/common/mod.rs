//! What the actor benches share: the 100 symbols, and the machine's load.

pub mod hundred;
pub mod yardstick;

/// The one-minute load average, as `/proc/loadavg` gives it.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "n/a".into())
}
