//! Reading a file without waiting and without reading what will be refused: only regular
//! files are opened (a FIFO, socket or device is named, never read), and a file's size is
//! checked before its bytes are.

use std::path::Path;

/// Why a file was not read.
#[derive(Debug)]
pub enum Unread {
    /// Not a regular file: what it is (`a FIFO (named pipe)`, `a socket`, ...).
    NotRegular(&'static str),
    /// Larger than the limit: its size in bytes, and the limit.
    TooLarge {
        size: u64,
        max: u64,
    },
    Io(std::io::Error),
}

impl std::fmt::Display for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unread::NotRegular(kind) => write!(f, "it is {kind}, not a regular file"),
            Unread::TooLarge { size, max } => {
                write!(
                    f,
                    "it is {size} bytes, more than the {max} extip-lint reads"
                )
            }
            Unread::Io(e) => write!(f, "{e}"),
        }
    }
}

impl Unread {
    /// The operating system's error, or the tool's own reason as text.
    pub fn into_cause(self) -> Result<std::io::Error, String> {
        match self {
            Unread::Io(e) => Ok(e),
            other => Err(other.to_string()),
        }
    }
}

/// What a file that is not a regular file is, for messages; `None` for a regular file.
/// Reading a FIFO or a socket waits for a writer that may never come, and a device may never
/// end (`/dev/zero`), so only regular files are read.
#[must_use]
pub fn special_kind(file_type: &std::fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        return None;
    }
    if file_type.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
        if file_type.is_char_device() {
            return Some("a character device");
        }
        if file_type.is_block_device() {
            return Some("a block device");
        }
    }
    Some("not a regular file (a device or a pipe)")
}

/// Whether `meta` is the null device's: it reads as an empty file, never blocks, and
/// `--config /dev/null` is a common way to say "no config".
#[must_use]
pub fn is_null_device(meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        meta.file_type().is_char_device()
            && std::fs::metadata("/dev/null").is_ok_and(|null| null.rdev() == meta.rdev())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

/// Reads `path` (following a symbolic link) if it is a regular file of at most `max` bytes
/// (the null device reads as an empty file).
/// What it is and its size come from its metadata before it is opened, so a FIFO, a socket or a
/// device is never opened and a file over the limit never read; it is opened without waiting
/// (a FIFO put in its place meanwhile cannot block the run) and checked again; the buffer is
/// sized once from its length, and no more than `max` + 1 bytes are read in case it grows.
pub fn read_regular(path: &Path, max: u64) -> Result<Vec<u8>, Unread> {
    use std::io::Read;
    let check = |meta: &std::fs::Metadata| {
        if let Some(kind) = special_kind(&meta.file_type()) {
            return Err(Unread::NotRegular(kind));
        }
        if meta.len() > max {
            return Err(Unread::TooLarge {
                size: meta.len(),
                max,
            });
        }
        Ok(meta.len())
    };
    let meta = std::fs::metadata(path).map_err(Unread::Io)?;
    if is_null_device(&meta) {
        return Ok(Vec::new());
    }
    check(&meta)?;
    let file = open_without_waiting(path).map_err(Unread::Io)?;
    let len = check(&file.metadata().map_err(Unread::Io)?)?;
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(usize::try_from(len).unwrap_or(usize::MAX).saturating_add(1))
        .map_err(|e| Unread::Io(std::io::Error::other(e)))?;
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(Unread::Io)?;
    let size = bytes.len() as u64;
    if size > max {
        // It grew while being read.
        return Err(Unread::TooLarge { size, max });
    }
    Ok(bytes)
}

/// `read_regular` for a text file: UTF-8 required.
pub fn read_regular_text(path: &Path, max: u64) -> Result<String, Unread> {
    String::from_utf8(read_regular(path, max)?).map_err(|e| {
        Unread::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 (at byte {})", e.utf8_error().valid_up_to()),
        ))
    })
}

#[cfg(unix)]
fn open_without_waiting(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // Opening a FIFO for reading waits for a writer; with O_NONBLOCK it returns at once (and
    // the metadata of the open file then says what it is). Reads of a regular file ignore it.
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_without_waiting(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}
