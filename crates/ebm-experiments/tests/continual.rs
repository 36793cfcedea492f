//! Split-MNIST continual learning at toy size: two tasks, tiny conditional EBMs and the Adam
//! baseline, two seeds, in seconds.

use ebm_experiments::data::embedded_mnist10k;
use ebm_experiments::paper::continual::config::{EbmSettings, split_mnist_tasks};
use ebm_experiments::paper::continual::ensemble::member_seed;
use ebm_experiments::paper::continual::report::{ContinualReport, SeedRun};
use ebm_experiments::paper::continual::{
    ContinualConfig, ContinualData, load_split_mnist, run_continual,
};

/// The embedded subset with only its first `n` test images.
fn embedded_with_test_images(n: usize) -> ContinualData {
    let mut splits = embedded_mnist10k();
    let keep: Vec<usize> = (0..n).collect();
    splits.test = splits.test.select(&keep);
    ContinualData {
        splits,
        name: "mnist-10k".into(),
        source: "test".into(),
    }
}

#[test]
fn split_mnist_tasks_are_five_disjoint_pairs_and_filter_their_digits() {
    let tasks = split_mnist_tasks();
    assert_eq!(
        tasks,
        vec![vec![0, 1], vec![2, 3], vec![4, 5], vec![6, 7], vec![8, 9]]
    );
    let splits = embedded_mnist10k();
    let mut total = 0;
    for task in &tasks {
        let set = splits.train.filter_classes(task);
        assert!(set.len() > 500, "{task:?}: {} images", set.len());
        // Only the task's digits, and both of them.
        assert!(set.labels.iter().all(|&y| task.contains(&usize::from(y))));
        for &c in task {
            assert!(set.labels.iter().any(|&y| usize::from(y) == c), "{c}");
        }
        total += set.len();
    }
    assert_eq!(
        total,
        splits.train.len(),
        "the tasks cover the training set"
    );
}

#[test]
fn two_tasks_give_a_two_by_two_matrix_per_seed_and_learn_the_first_task() {
    let _rng = ebm_experiments::testing::device_rng_lock();
    // A quarter of the test set keeps the evaluation (each image under all 10 labels) short.
    let data = embedded_with_test_images(500);
    let config = ContinualConfig::toy(2, 40);
    let out = std::env::temp_dir().join(format!("ebm-continual-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let device = burn::tensor::Device::flex();
    let methods = ["ebm", "ebm-classes", "adam"].map(String::from).to_vec();
    let report = run_continual(&config, &data, &[0, 1], &methods, &out, &device, "test").unwrap();
    let names: Vec<&str> = report.methods.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["ebm", "ebm-classes", "adam"]);

    for method in &report.methods {
        assert_eq!(method.runs.len(), 2, "{}", method.name);
        for run in &method.runs {
            assert_eq!(run.matrix.len(), 2, "{} rows", method.name);
            assert!(
                run.matrix.iter().all(|r| r.len() == 2),
                "{} columns",
                method.name
            );
            // Chance among ten classes is 0.1; every method learns the first task (measured:
            // 0.87 to 0.99).
            assert!(
                run.matrix[0][0] > 0.8,
                "{} seed {}: task 0 after task 0 {:.3}",
                method.name,
                run.seed,
                run.matrix[0][0]
            );
        }
    }
    // Incremental class: fine-tuned on {2,3}, the softmax classifier forgets {0,1}.
    let adam = &report.methods[2];
    assert_eq!(adam.name, "adam");
    for run in &adam.runs {
        eprintln!("adam seed {}: {:?}", run.seed, run.matrix);
        assert!(
            run.matrix[1][0] < 0.5 * run.matrix[0][0] && run.matrix[1][1] > 0.3,
            "adam seed {}: {:?}",
            run.seed,
            run.matrix
        );
    }
    // The CD-trained EBM keeps most of it (measured: 0.81 and 0.94 against Adam's 0.00).
    let ebm = &report.methods[0];
    for run in &ebm.runs {
        eprintln!("ebm seed {}: {:?}", run.seed, run.matrix);
        assert!(
            run.matrix[1][0] > 0.6 && run.matrix[1][1] > 0.2,
            "ebm seed {}: {:?}",
            run.seed,
            run.matrix
        );
    }
    assert_eq!(ebm.name, "ebm");
    assert_eq!(ebm.runs[0].energies.as_ref().map(Vec::len), Some(2));

    let json = std::fs::read_to_string(out.join("continual.json")).unwrap();
    let back: ContinualReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back.seeds, vec![0, 1]);
    for method in &back.methods {
        let seeds: Vec<u64> = method.runs.iter().map(|r| r.seed).collect();
        assert_eq!(seeds, vec![0, 1], "{}", method.name);
    }
    assert_eq!(back.settings.tasks, vec![vec![0, 1], vec![2, 3]]);
    for name in ["ebm", "ebm-classes", "adam"] {
        assert!(out.join(format!("heatmap-{name}.png")).is_file(), "{name}");
    }
    assert_eq!(
        back.methods[1].runs[0].energies.as_ref().map(Vec::len),
        Some(2),
        "the class-contrastive EBM records its energies too"
    );
    assert!(report.table().contains("64.99"), "{}", report.table());
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn kept_samples_anchor_and_calibration_run_end_to_end() {
    let _rng = ebm_experiments::testing::device_rng_lock();
    let data = embedded_with_test_images(300);
    let mut config = ContinualConfig::toy(2, 20);
    let e = &mut config.ebm;
    e.memory_per_class = 16;
    e.anchor = 1.0;
    (e.memory_starts, e.old_label_starts, e.data_starts) = (0.25, 0.25, 0.25);
    e.calibrate = true;
    let out = std::env::temp_dir().join(format!("ebm-continual-mem-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let device = burn::tensor::Device::flex();
    let methods = vec!["ebm".to_string()];
    let report = run_continual(&config, &data, &[3], &methods, &out, &device, "test").unwrap();
    let run = &report.methods[0].runs[0];
    assert_eq!(run.matrix.len(), 2);
    let energies = run.energies.as_ref().unwrap();
    // After task 0 classes 0 and 1 have measured levels; the rest share their mean.
    let b = &energies[0].offsets;
    assert_eq!(b.len(), 10);
    assert!(b[0] != 0.0 && b[1] != 0.0, "{b:?}");
    let mean = (b[0] + b[1]) / 2.0;
    assert!(b[2..].iter().all(|&v| (v - mean).abs() < 1e-6), "{b:?}");
    // After task 1, classes 2 and 3 have their own levels and 0, 1 keep theirs.
    let b1 = &energies[1].offsets;
    assert_eq!(&b1[..2], &b[..2]);
    assert!(b1[2] != b1[3], "{b1:?}");
    let back: ContinualReport =
        serde_json::from_str(&std::fs::read_to_string(out.join("continual.json")).unwrap())
            .unwrap();
    assert!(back.settings.ebm.calibrate);
    assert_eq!(back.settings.ebm.memory_per_class, 16);
    std::fs::remove_dir_all(&out).unwrap();

    // Settings the experiment cannot run with are refused before any training.
    let mut bad = ContinualConfig::toy(2, 20);
    (bad.ebm.memory_starts, bad.ebm.data_starts) = (0.5, 0.5);
    bad.ebm.memory_per_class = 4;
    assert!(bad.validate().unwrap_err().to_string().contains("below 1"));
    let mut bad = ContinualConfig::toy(2, 20);
    bad.ebm.anchor = 1.0;
    assert!(
        bad.validate()
            .unwrap_err()
            .to_string()
            .contains("memory_per_class")
    );
}

#[test]
fn without_full_mnist_the_embedded_subset_is_used_and_said() {
    let dir = std::env::temp_dir().join(format!("ebm-continual-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = load_split_mnist(&dir).unwrap();
    assert_eq!(data.name, "mnist-10k");
    assert!(data.source.contains("embedded"), "{}", data.source);
    assert_eq!(data.splits.test.len(), 2000);
    // A partial MNIST folder is an error, not a silent fallback.
    std::fs::create_dir_all(dir.join("mnist")).unwrap();
    std::fs::write(dir.join("mnist/t10k-images-idx3-ubyte.gz"), b"not gzip").unwrap();
    assert!(load_split_mnist(&dir).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_command_writes_json_heat_maps_and_the_table() {
    let _rng = ebm_experiments::testing::device_rng_lock();
    let dir = std::env::temp_dir().join(format!("ebm-continual-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("run");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_ebm"))
        .args([
            "continual",
            "split-mnist",
            "--seeds",
            "1",
            "--device",
            "flex",
        ])
        .arg("--data-dir")
        .arg(&dir)
        .arg("--out")
        .arg(&out)
        .args(["--methods", "ebm,sgd,offline"])
        .args(["--set", "tasks=[[0,1],[2,3]]"])
        .args(["--set", "ebm.iterations_per_task=3"])
        .args(["--set", "ebm.sampler.steps=2"])
        .args(["--set", "softmax.iterations_per_task=3"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&status.stdout);
    let stderr = String::from_utf8_lossy(&status.stderr);
    assert!(status.status.success(), "{stderr}");
    assert!(stderr.contains("embedded"), "{stderr}");
    assert!(stdout.contains("| method |"), "{stdout}");
    assert!(stdout.contains("64.99"), "{stdout}");
    let json = std::fs::read_to_string(out.join("continual.json")).unwrap();
    let back: ContinualReport = serde_json::from_str(&json).unwrap();
    assert_eq!(back.dataset, "mnist-10k");
    let test = embedded_mnist10k().test.filter_classes(&[0, 1, 2, 3]).len();
    assert_eq!(back.test_size, test, "the test images of the tasks run");
    let names: Vec<&str> = back.methods.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["ebm", "sgd", "offline"]);
    assert_eq!(back.methods[2].runs[0].matrix.len(), 1, "offline: one row");
    for name in ["ebm", "sgd", "offline"] {
        assert!(out.join(format!("heatmap-{name}.png")).is_file(), "{name}");
    }
    // An existing output directory is refused.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_ebm"))
        .args(["continual", "split-mnist", "--seeds", "1", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!again.status.success());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// One seed of `ebm-classes` alone on one task at toy size, `change` applied to its settings.
fn one_classes_run(
    data: &ContinualData,
    seed: u64,
    tag: &str,
    change: impl FnOnce(&mut EbmSettings),
) -> SeedRun {
    let mut config = ContinualConfig::toy(1, 20);
    change(&mut config.ebm_classes);
    let out = std::env::temp_dir().join(format!("ebm-continual-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let device = burn::tensor::Device::flex();
    let methods = ["ebm-classes".to_string()];
    let report = run_continual(&config, data, &[seed], &methods, &out, &device, "test").unwrap();
    std::fs::remove_dir_all(&out).unwrap();
    report.methods[0].runs[0].clone()
}

/// The mean energy of task 0's test images under each class, after the first task.
fn first_task_energies(run: &SeedRun) -> Vec<f64> {
    run.energies.as_ref().unwrap()[0].test_class_energy[0].clone()
}

#[test]
fn the_cd_term_of_ebm_classes_takes_part_in_training() {
    let _rng = ebm_experiments::testing::device_rng_lock();
    let data = embedded_with_test_images(300);
    let plain = one_classes_run(&data, 0, "cd0", |s| s.cd_weight = 0.0);
    let with_cd = one_classes_run(&data, 0, "cd0.05", |s| s.cd_weight = 0.05);
    // Both learn the task; the term moves the energies (it would not if it were dropped).
    let (a, b) = (plain.matrix[0][0], with_cd.matrix[0][0]);
    assert!(a > 0.8 && b > 0.8, "{a} {b}");
    assert_ne!(first_task_energies(&plain), first_task_energies(&with_cd));
}

#[test]
fn an_ensemble_sums_its_members_energies() {
    let _rng = ebm_experiments::testing::device_rng_lock();
    let data = embedded_with_test_images(300);
    let first = one_classes_run(&data, 0, "m1-0", |s| s.members = 1);
    let second = one_classes_run(&data, member_seed(0, 1), "m1-1", |s| s.members = 1);
    let both = one_classes_run(&data, 0, "m2", |s| s.members = 2);
    let (e1, e2, e12) = (
        first_task_energies(&first),
        first_task_energies(&second),
        first_task_energies(&both),
    );
    // The members are two different networks, and the ensemble records their mean energies.
    assert_ne!(e1, e2);
    for c in 0..e12.len() {
        let mean = (e1[c] + e2[c]) / 2.0;
        assert!(
            (e12[c] - mean).abs() < 1e-6,
            "class {c}: {} against {mean}",
            e12[c]
        );
    }
    assert!(both.matrix[0][0] > 0.8, "{:?}", both.matrix);
    let mut bad = ContinualConfig::toy(1, 20);
    bad.ebm_classes.members = 0;
    assert!(bad.validate().unwrap_err().to_string().contains("members"));
}
