//! Unpacking downloaded archives: only the expected regular files, each written under a path
//! this code builds (never a path taken from the archive as it is).

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::DatasetName;

/// Unpacks `archive` into `dir` where the dataset comes as an archive (CIFAR-10, CIFAR-100,
/// Textures); other files are used as downloaded.
pub fn unpack(name: DatasetName, archive: &Path, dir: &Path) -> Result<()> {
    let batches = |folder: &'static str, wanted: Vec<String>| {
        let expected = wanted.len();
        let select = move |path: &Path| {
            let file = path.file_name()?.to_string_lossy().into_owned();
            wanted
                .contains(&file)
                .then(|| PathBuf::from(folder).join(file))
        };
        (
            Box::new(select) as Box<dyn Fn(&Path) -> Option<PathBuf>>,
            expected,
        )
    };
    let (select, expected) = match name {
        DatasetName::Cifar10 => batches(
            "cifar-10-batches-bin",
            (1..=5)
                .map(|i| format!("data_batch_{i}.bin"))
                .chain(["test_batch.bin".into(), "batches.meta.txt".into()])
                .collect(),
        ),
        DatasetName::Cifar100 => batches(
            "cifar-100-binary",
            [
                "train.bin",
                "test.bin",
                "coarse_label_names.txt",
                "fine_label_names.txt",
            ]
            .map(String::from)
            .to_vec(),
        ),
        // dtd/images/<class>/<name>.jpg; DTD has 5640 images in 47 classes.
        DatasetName::Textures => (
            Box::new(dtd_image) as Box<dyn Fn(&Path) -> Option<PathBuf>>,
            1,
        ),
        _ => return Ok(()),
    };
    let found = unpack_tar(archive, dir, &*select)?;
    if found < expected {
        bail!(
            "{}: expected at least {expected} files for {}, found {found}",
            archive.display(),
            name.name()
        );
    }
    Ok(())
}

/// `dtd/images/<class>/<file>.jpg` (any prefix before `dtd`) to that relative path.
fn dtd_image(path: &Path) -> Option<PathBuf> {
    let parts: Vec<String> = path
        .components()
        .map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    match &parts[parts.len().checked_sub(4)?..] {
        [dtd, images, class, file]
            if dtd == "dtd"
                && images == "images"
                && !file.starts_with('.')
                && file.to_ascii_lowercase().ends_with(".jpg") =>
        {
            Some(["dtd", "images", class, file].iter().collect())
        }
        _ => None,
    }
}

/// Writes each regular file of the gzipped tar `archive` that `select` maps to a relative
/// path, under `dir`; returns how many.
fn unpack_tar(
    archive: &Path,
    dir: &Path,
    select: &dyn Fn(&Path) -> Option<PathBuf>,
) -> Result<usize> {
    let file =
        std::fs::File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut found = 0;
    for entry in tar
        .entries()
        .with_context(|| format!("reading {}", archive.display()))?
    {
        let mut entry = entry.with_context(|| format!("reading {}", archive.display()))?;
        let path = entry.path()?.into_owned();
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let Some(rel) = select(&path) else { continue };
        let dest = dir.join(&rel);
        let folder = dest.parent().context("an unpacked file has a folder")?;
        std::fs::create_dir_all(folder)
            .with_context(|| format!("creating {}", folder.display()))?;
        let tmp = dest.with_extension("part");
        let mut f =
            std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        std::io::copy(&mut entry, &mut f)
            .with_context(|| format!("unpacking {}", path.display()))?;
        std::fs::rename(&tmp, &dest).with_context(|| format!("renaming {}", tmp.display()))?;
        found += 1;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtd_paths_are_rebuilt_and_others_refused() {
        let ok = dtd_image(Path::new("dtd/images/banded/banded_0002.jpg"));
        assert_eq!(ok, Some(PathBuf::from("dtd/images/banded/banded_0002.jpg")));
        for bad in [
            "dtd/images/../x/a.jpg",
            "dtd/labels/train1.txt",
            "/dtd/images/a/b.jpg.exe",
            "dtd/images/a/.hidden.jpg",
            "images/a/b.jpg",
        ] {
            assert_eq!(dtd_image(Path::new(bad)), None, "{bad}");
        }
    }
}
