//! Programs from Debian's packages that some tests drive (promtool, systemd-analyze,
//! chromium). `.ci/run` installs them and sets `KEEL_REQUIRE_TOOLS=1`; on a fresh machine
//! without them those tests skip, so that `cargo test` passes there.

use std::path::PathBuf;

/// `program` on the PATH. When it is missing the test is skipped (it prints `SKIPPED: ...`
/// and passes), unless `KEEL_REQUIRE_TOOLS=1` (CI installs the tools), where it fails.
pub fn tool(program: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("KEEL_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "{program} is not installed and KEEL_REQUIRE_TOOLS=1"
        );
        println!("SKIPPED: {program} not installed");
    }
    found
}
