//! Where the durable-write phases run: a directory on a real disk, its filesystem recorded.
//!
//! A commit's cost is the disk's fsync, so a data directory on tmpfs (where fsync is free)
//! would report a ceiling no deployment has. The filesystem is the one mounted at the longest
//! mount point that is a prefix of the directory, from `/proc/self/mounts`; memory-backed
//! filesystems are refused.

use anyhow::{Context, bail};
use std::path::Path;

/// Filesystems that keep data in memory only.
const MEMORY_FILESYSTEMS: [&str; 3] = ["tmpfs", "ramfs", "devtmpfs"];

/// The filesystem holding `dir` (which must exist): `(type, device, mount point)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filesystem {
    pub(crate) fs_type: String,
    pub(crate) device: String,
    pub(crate) mount_point: String,
}

pub(crate) fn filesystem_of(dir: &Path) -> anyhow::Result<Filesystem> {
    let dir = std::fs::canonicalize(dir).with_context(|| format!("{}", dir.display()))?;
    let mounts =
        std::fs::read_to_string("/proc/self/mounts").context("reading /proc/self/mounts")?;
    mount_for(&mounts, &dir.to_string_lossy())
        .with_context(|| format!("no mount holds {}", dir.display()))
}

/// Fails unless `dir` is on a disk-backed filesystem.
pub(crate) fn require_disk(dir: &Path) -> anyhow::Result<Filesystem> {
    let fs = filesystem_of(dir)?;
    if MEMORY_FILESYSTEMS.contains(&fs.fs_type.as_str()) {
        bail!(
            "{} is on {} ({} at {}): fsync costs nothing there, so the durable-write figures \
             would be meaningless; pass --work-dir on a real disk",
            dir.display(),
            fs.fs_type,
            fs.device,
            fs.mount_point
        );
    }
    Ok(fs)
}

fn mount_for(mounts: &str, path: &str) -> Option<Filesystem> {
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let device = fields.next()?;
            // Spaces in mount points are written as \040.
            let mount_point = fields.next()?.replace("\\040", " ");
            let fs_type = fields.next()?;
            let inside = path == mount_point
                || mount_point == "/"
                || path
                    .strip_prefix(&mount_point)
                    .is_some_and(|rest| rest.starts_with('/'));
            inside.then(|| Filesystem {
                fs_type: fs_type.to_owned(),
                device: device.to_owned(),
                mount_point,
            })
        })
        // The longest mount point wins; among equals the last mounted (it hides the others).
        .fold(None, |best: Option<Filesystem>, candidate| match best {
            Some(best) if best.mount_point.len() > candidate.mount_point.len() => Some(best),
            _ => Some(candidate),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTS: &str = "/dev/vda / ext4 rw,relatime 0 0\n\
        tmpfs /tmp tmpfs rw 0 0\n\
        /dev/vdb /work/data xfs rw 0 0\n\
        tmpfs /work/data/ram\\040disk tmpfs rw 0 0\n";

    #[test]
    fn the_longest_mount_point_wins() {
        let fs = |path| mount_for(MOUNTS, path).map(|fs| fs.fs_type);
        assert_eq!(fs("/work/wt/target/bench").as_deref(), Some("ext4"));
        assert_eq!(fs("/tmp/x").as_deref(), Some("tmpfs"));
        assert_eq!(fs("/tmpfoo").as_deref(), Some("ext4"));
        assert_eq!(fs("/work/data").as_deref(), Some("xfs"));
        assert_eq!(fs("/work/data/x").as_deref(), Some("xfs"));
        assert_eq!(fs("/work/data/ram disk/x").as_deref(), Some("tmpfs"));
    }

    #[test]
    fn this_machine_has_a_filesystem_for_the_current_directory() {
        assert!(filesystem_of(Path::new(".")).is_ok());
    }
}
