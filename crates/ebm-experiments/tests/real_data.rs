//! Real data from `../shared/data` (or `$EBM_SHARED_DATA`), the embedded subset, a CIFAR-10
//! fixture written in the exact binary format, and the error for missing data.

use ebm_data::{ImageSet, write_cifar10};
use ebm_experiments::data::{DatasetName, embedded_mnist10k, load};
use ebm_experiments::testing::shared_data_or_skip as shared_or_skip;

#[test]
fn fashion_mnist_is_complete_and_balanced() {
    let Some(dir) = shared_or_skip("fashion_mnist_is_complete_and_balanced") else {
        return;
    };
    let splits = load(DatasetName::FashionMnist, &dir).unwrap();
    assert_eq!((splits.train.len(), splits.test.len()), (60_000, 10_000));
    assert_eq!(splits.train.image_shape(), [1, 28, 28]);
    assert_eq!(splits.train.class_counts(), vec![6000; 10]);
    assert_eq!(splits.test.class_counts(), vec![1000; 10]);
}

#[test]
fn mnist_subset_shared_and_embedded_agree() {
    let embedded = embedded_mnist10k();
    assert_eq!((embedded.train.len(), embedded.test.len()), (8_000, 2_000));
    let Some(dir) = shared_or_skip("mnist_subset_shared_and_embedded_agree") else {
        return;
    };
    // The embedded copy must be byte-for-byte the shared subset.
    let files = dir.join("mnist-10k");
    let read = |f: &str| std::fs::read(files.join(f)).unwrap();
    let train = ebm_data::parse_idx_images(
        "train-images",
        &read("train-images-idx3-ubyte.gz"),
        "train-labels",
        &read("train-labels-idx1-ubyte.gz"),
        10,
    )
    .unwrap();
    assert_eq!(train, embedded.train);
}

#[test]
fn cifar10_fixture_reads_back_identically() {
    let dir = std::env::temp_dir().join(format!("ebm-cifar-{}", std::process::id()));
    let root = dir.join("cifar10").join("cifar-10-batches-bin");
    std::fs::create_dir_all(&root).unwrap();
    let batch = |seed: usize, n: usize| {
        let pixels: Vec<u8> = (0..n * 3072)
            .map(|i| ((i * 31 + seed * 7) % 251) as u8)
            .collect();
        let labels: Vec<u16> = (0..n).map(|i| ((i + seed) % 10) as u16).collect();
        ImageSet::new("fixture", pixels, labels, [3, 32, 32], 10).unwrap()
    };
    let mut expected_train = batch(1, 20);
    std::fs::write(
        root.join("data_batch_1.bin"),
        write_cifar10(&expected_train),
    )
    .unwrap();
    for i in 2..=5 {
        let b = batch(i, 20);
        std::fs::write(root.join(format!("data_batch_{i}.bin")), write_cifar10(&b)).unwrap();
        expected_train.extend(&b);
    }
    let test = batch(9, 10);
    std::fs::write(root.join("test_batch.bin"), write_cifar10(&test)).unwrap();

    let splits = load(DatasetName::Cifar10, &dir).unwrap();
    assert_eq!(splits.train, expected_train);
    assert_eq!(splits.test, test);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_data_names_the_url_files_and_folder() {
    let dir = std::env::temp_dir().join(format!("ebm-empty-{}", std::process::id()));
    let err = load(DatasetName::FashionMnist, &dir)
        .unwrap_err()
        .to_string();
    assert!(err.contains("train-images-idx3-ubyte.gz"), "{err}");
    assert!(err.contains("http://fashion-mnist.s3-website"), "{err}");
    assert!(
        err.contains(&dir.join("fashion-mnist").display().to_string()),
        "{err}"
    );
    let err = load(DatasetName::Cifar10, &dir).unwrap_err().to_string();
    assert!(
        err.contains("cifar-10-binary.tar.gz") && err.contains("data_batch_1.bin"),
        "{err}"
    );
}
