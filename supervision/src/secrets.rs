//! Secrets named in the settings (API keys, the control token, webhook URLs), read from
//! systemd's credentials before the environment.
//!
//! [`read`] looks for the file `$CREDENTIALS_DIRECTORY/NAME` first (systemd sets the
//! variable for a unit with `LoadCredential=` or `LoadCredentialEncrypted=`), then for the
//! environment variable `NAME`. A credential file that its group or others may read or write
//! is refused: a secret anyone on the machine can read is already lost. An error names the
//! file and never holds the secret.

use std::path::{Path, PathBuf};

/// The variable systemd sets to the directory of a service's decrypted credentials.
pub const CREDENTIALS_DIRECTORY: &str = "CREDENTIALS_DIRECTORY";

/// A credential file that exists but cannot be used. Its text never holds the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The file's mode lets its group or others read or write it.
    #[error(
        "credential file {} is readable or writable by group or others (mode 0{mode:03o}): \
         make it readable by keel's user only (chmod 600)",
        path.display()
    )]
    Exposed {
        /// The credential file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file could not be read, or is not UTF-8 text.
    #[error("credential file {} cannot be read: {reason}", path.display())]
    Unreadable {
        /// The credential file.
        path: PathBuf,
        /// Why, without the file's content.
        reason: String,
    },
}

/// The secret `name`: the file `$CREDENTIALS_DIRECTORY/name` when that variable is set and
/// the file exists (one trailing newline trimmed), else the environment variable `name`.
/// `None` when neither holds it; the caller says which setting named it.
pub fn read(name: &str) -> Result<Option<String>, SecretError> {
    let dir = std::env::var_os(CREDENTIALS_DIRECTORY).map(PathBuf::from);
    read_from(dir.as_deref(), name)
}

/// [`read`] with the credentials directory given (`None`: the environment only).
pub fn read_from(credentials: Option<&Path>, name: &str) -> Result<Option<String>, SecretError> {
    if let Some(dir) = credentials {
        let path = dir.join(name);
        if path.is_file() {
            return read_file(&path).map(Some);
        }
    }
    Ok(std::env::var(name).ok())
}

fn read_file(path: &Path) -> Result<String, SecretError> {
    let unreadable = |reason: String| SecretError::Unreadable {
        path: path.to_path_buf(),
        reason,
    };
    let metadata = std::fs::metadata(path).map_err(|e| unreadable(e.kind().to_string()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SecretError::Exposed {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    let bytes = std::fs::read(path).map_err(|e| unreadable(e.kind().to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| unreadable("not UTF-8 text".into()))?;
    let text = text.strip_suffix('\n').unwrap_or(&text);
    Ok(text.strip_suffix('\r').unwrap_or(text).to_string())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn credential(dir: &Path, name: &str, text: &str, mode: u32) {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_private_credential_file_is_read_with_its_trailing_newline_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        credential(dir.path(), "KEEL_TEST_KEY_A", "s3cret-from-file\n", 0o600);
        assert_eq!(
            read_from(Some(dir.path()), "KEEL_TEST_KEY_A").unwrap(),
            Some("s3cret-from-file".to_string())
        );
        // Only one newline goes: a secret ending in a blank line keeps it.
        credential(dir.path(), "KEEL_TEST_KEY_B", "two\n\n", 0o400);
        assert_eq!(
            read_from(Some(dir.path()), "KEEL_TEST_KEY_B").unwrap(),
            Some("two\n".to_string())
        );
    }

    #[test]
    fn a_credential_file_others_can_read_is_refused_without_showing_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        credential(dir.path(), "KEEL_TEST_KEY_C", "s3cret-exposed\n", 0o644);
        let err = read_from(Some(dir.path()), "KEEL_TEST_KEY_C").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("KEEL_TEST_KEY_C"), "names the file: {text}");
        assert!(text.contains("0644"), "gives the mode: {text}");
        assert!(!text.contains("s3cret"), "never the secret: {text}");
        assert!(!format!("{err:?}").contains("s3cret"));
        // Group-writable is as bad as world-readable.
        credential(dir.path(), "KEEL_TEST_KEY_D", "x", 0o620);
        assert!(matches!(
            read_from(Some(dir.path()), "KEEL_TEST_KEY_D"),
            Err(SecretError::Exposed { mode: 0o620, .. })
        ));
    }

    #[test]
    fn the_file_wins_over_the_environment_and_the_environment_is_the_fallback() {
        let dir = tempfile::tempdir().unwrap();
        // A name no other test uses: the environment is shared by the test threads.
        std::env::set_var("KEEL_TEST_SECRET_FALLBACK", "from-env");
        assert_eq!(
            read_from(Some(dir.path()), "KEEL_TEST_SECRET_FALLBACK").unwrap(),
            Some("from-env".to_string()),
            "no file in the directory: the variable"
        );
        assert_eq!(
            read_from(None, "KEEL_TEST_SECRET_FALLBACK").unwrap(),
            Some("from-env".to_string())
        );
        credential(dir.path(), "KEEL_TEST_SECRET_FALLBACK", "from-file", 0o600);
        assert_eq!(
            read_from(Some(dir.path()), "KEEL_TEST_SECRET_FALLBACK").unwrap(),
            Some("from-file".to_string())
        );
        assert_eq!(
            read_from(Some(dir.path()), "KEEL_TEST_SECRET_UNSET").unwrap(),
            None
        );
    }

    #[test]
    fn read_looks_in_the_directory_systemd_names() {
        // The only test of this binary that touches CREDENTIALS_DIRECTORY.
        let dir = tempfile::tempdir().unwrap();
        credential(dir.path(), "KEEL_TEST_KEY_SYSTEMD", "from-systemd\n", 0o600);
        std::env::set_var(CREDENTIALS_DIRECTORY, dir.path());
        let found = read("KEEL_TEST_KEY_SYSTEMD");
        std::env::remove_var(CREDENTIALS_DIRECTORY);
        assert_eq!(found.unwrap(), Some("from-systemd".to_string()));
    }
}
