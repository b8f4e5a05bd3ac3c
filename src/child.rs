//! Child processes: the sim venue `keel chaos` starts, and the processes the tests start.

use std::process::Command;

/// Makes the child die (SIGKILL) when the thread that starts it ends, however it ends: even a
/// parent killed outright (SIGKILL, a CI timeout) leaves no child behind, where a `Drop`
/// never runs.
pub fn die_with_parent(command: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: `prctl` is async-signal-safe and touches no memory of the parent; it is the
        // only call made between fork and exec.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = command;
}
