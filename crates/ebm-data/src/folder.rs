//! Image folders (PNG/JPEG): how users bring SVHN, Textures or their own data.
//!
//! Layout: either one subfolder per class (`root/cat/*.png`, `root/dog/*.jpg`; classes in
//! sorted name order) or a flat folder of images (every label 0). Each image is centre-cropped
//! to a square and resized to the model's side. Hidden files (`.DS_Store`) are skipped; any
//! other non-image file is an error naming it.

use std::path::{Path, PathBuf};

use image::imageops::FilterType;

use crate::dataset::ImageSet;

/// Why an image folder cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    /// The folder or a file in it could not be read.
    #[error("{path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A file that is not a decodable image.
    #[error("{path}: not a PNG/JPEG image: {message}")]
    NotAnImage {
        /// Path.
        path: PathBuf,
        /// Decoder message.
        message: String,
    },
    /// No images found.
    #[error("{path}: no images found (expected PNG/JPEG files, flat or one subfolder per class)")]
    Empty {
        /// Folder.
        path: PathBuf,
    },
}

/// How an image of any size becomes `side x side`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// The centred largest square, resized (user folders).
    CentreResize,
    /// The top-left `side x side` pixels at full resolution, as the official OOD evaluation
    /// crops Textures (images smaller than `side` are resized up first).
    TopLeftCrop,
}

/// Decodes `bytes` (PNG or JPEG), centre-crops to a square, resizes to `side x side`, and
/// returns `channels` (1 or 3) planes, channel-major. `name` identifies the image in errors.
pub fn decode_image(
    name: &Path,
    bytes: &[u8],
    channels: usize,
    side: usize,
) -> Result<Vec<u8>, FolderError> {
    decode_image_fit(name, bytes, channels, side, Fit::CentreResize)
}

/// [`decode_image`] with a choice of [`Fit`].
pub fn decode_image_fit(
    name: &Path,
    bytes: &[u8],
    channels: usize,
    side: usize,
    fit: Fit,
) -> Result<Vec<u8>, FolderError> {
    let img = image::load_from_memory(bytes).map_err(|e| FolderError::NotAnImage {
        path: name.to_path_buf(),
        message: e.to_string(),
    })?;
    let (w, h) = (img.width(), img.height());
    let s = w.min(h);
    let side32 = side as u32;
    let img = match fit {
        Fit::TopLeftCrop if s >= side32 => img.crop_imm(0, 0, side32, side32),
        Fit::TopLeftCrop => img.crop_imm(0, 0, s, s),
        Fit::CentreResize => img.crop_imm((w - s) / 2, (h - s) / 2, s, s),
    };
    let img = if img.width() == side32 && img.height() == side32 {
        img
    } else {
        img.resize_exact(side32, side32, FilterType::Triangle)
    };
    let plane = side * side;
    Ok(if channels == 1 {
        img.to_luma8().into_raw()
    } else {
        let rgb = img.to_rgb8().into_raw();
        let mut out = vec![0u8; 3 * plane];
        for (p, px) in rgb.chunks_exact(3).enumerate() {
            for c in 0..3 {
                out[c * plane + p] = px[c];
            }
        }
        out
    })
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, FolderError> {
    let io = |source| FolderError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    entries.retain(|p| {
        !p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
    });
    entries.sort();
    Ok(entries)
}

/// Reads a folder of images as an [`ImageSet`] of `channels x side x side` images, each
/// centre-cropped and resized.
pub fn read_image_folder(
    root: &Path,
    channels: usize,
    side: usize,
) -> Result<ImageSet, FolderError> {
    read_image_folder_fit(root, channels, side, Fit::CentreResize)
}

/// [`read_image_folder`] with a choice of [`Fit`].
pub fn read_image_folder_fit(
    root: &Path,
    channels: usize,
    side: usize,
    fit: Fit,
) -> Result<ImageSet, FolderError> {
    let entries = sorted_entries(root)?;
    let class_dirs: Vec<&PathBuf> = entries.iter().filter(|p| p.is_dir()).collect();
    let groups: Vec<(u16, Vec<PathBuf>)> = if class_dirs.is_empty() {
        vec![(0, entries.clone())]
    } else {
        class_dirs
            .iter()
            .enumerate()
            .map(|(k, d)| Ok((k as u16, sorted_entries(d)?)))
            .collect::<Result<_, FolderError>>()?
    };
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for (label, files) in &groups {
        for file in files.iter().filter(|p| p.is_file()) {
            let bytes = std::fs::read(file).map_err(|source| FolderError::Io {
                path: file.clone(),
                source,
            })?;
            pixels.extend(decode_image_fit(file, &bytes, channels, side, fit)?);
            labels.push(*label);
        }
    }
    if labels.is_empty() {
        return Err(FolderError::Empty {
            path: root.to_path_buf(),
        });
    }
    let classes = groups.len().max(1);
    Ok(ImageSet::new(
        &root.display().to_string(),
        pixels,
        labels,
        [channels, side, side],
        classes,
    )
    .expect("decoded images have the requested shape"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32, rgb: [u8; 3]) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(w, h, image::Rgb(rgb));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn top_left_crop_keeps_full_resolution_pixels() {
        let mut img = image::RgbImage::from_pixel(40, 30, image::Rgb([0, 0, 255]));
        for y in 0..4 {
            for x in 0..4 {
                img.put_pixel(x, y, image::Rgb([255, 0, 0]));
            }
        }
        let mut bytes = std::io::Cursor::new(Vec::new());
        img.write_to(&mut bytes, image::ImageFormat::Png).unwrap();
        let px = decode_image_fit(Path::new("t"), bytes.get_ref(), 3, 4, Fit::TopLeftCrop).unwrap();
        assert!(px[..16].iter().all(|&v| v == 255) && px[16..].iter().all(|&v| v == 0));
        let px = decode_image(Path::new("t"), bytes.get_ref(), 3, 4).unwrap();
        assert!(px[32..].contains(&255), "centre resize sees the blue");
    }

    #[test]
    fn class_folders_crop_resize_and_errors() {
        let root = std::env::temp_dir().join(format!("ebm-folder-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::create_dir_all(root.join("b")).unwrap();
        std::fs::write(root.join("a/1.png"), png(40, 20, [255, 0, 0])).unwrap();
        std::fs::write(root.join("b/1.png"), png(8, 8, [0, 0, 255])).unwrap();
        std::fs::write(root.join("b/.DS_Store"), b"junk").unwrap();
        let set = read_image_folder(&root, 3, 4).unwrap();
        assert_eq!(
            (set.len(), set.num_classes, set.image_shape()),
            (2, 2, [3, 4, 4])
        );
        assert_eq!(set.labels, vec![0, 1]);
        assert!(
            set.image(0)[..16].iter().all(|&v| v == 255)
                && set.image(0)[16..].iter().all(|&v| v == 0)
        );

        std::fs::write(root.join("b/notes.txt"), b"hello").unwrap();
        let err = read_image_folder(&root, 3, 4).unwrap_err().to_string();
        assert!(
            err.contains("notes.txt") && err.contains("not a PNG/JPEG"),
            "{err}"
        );

        let empty = root.join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        assert!(matches!(
            read_image_folder(&empty, 1, 4),
            Err(FolderError::Empty { .. })
        ));
        assert!(matches!(
            read_image_folder(&root.join("missing"), 1, 4),
            Err(FolderError::Io { .. })
        ));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
