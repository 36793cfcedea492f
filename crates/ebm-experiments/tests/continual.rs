//! Split-MNIST continual learning at toy size: two tasks, a tiny conditional EBM and the
//! Adam baseline, two seeds, in seconds.

use ebm_experiments::data::embedded_mnist10k;
use ebm_experiments::paper::continual::report::ContinualReport;
use ebm_experiments::paper::continual::{
    ContinualConfig, ContinualData, load_split_mnist, run_continual,
};

#[test]
fn two_tasks_give_a_two_by_two_matrix_per_seed_and_learn_the_first_task() {
    let mut splits = embedded_mnist10k();
    // A quarter of the test set keeps the evaluation (each image under all 10 labels) short.
    let keep: Vec<usize> = (0..500).collect();
    splits.test = splits.test.select(&keep);
    let data = ContinualData {
        splits,
        name: "mnist-10k".into(),
        source: "test".into(),
    };
    let config = ContinualConfig::toy(2, 40);
    let out = std::env::temp_dir().join(format!("ebm-continual-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let device = burn::tensor::Device::flex();
    let methods = vec!["ebm".to_string(), "adam".to_string()];
    let report = run_continual(&config, &data, &[0, 1], &methods, &out, &device, "test").unwrap();

    for method in &report.methods {
        assert_eq!(method.runs.len(), 2, "{}", method.name);
        for run in &method.runs {
            assert_eq!(run.matrix.len(), 2, "{} rows", method.name);
            assert!(
                run.matrix.iter().all(|r| r.len() == 2),
                "{} columns",
                method.name
            );
            // Chance among ten classes is 0.1. (At this size the EBM often answers only one of
            // the task's two classes, about 0.5; the softmax baseline learns the task.)
            let floor = if method.name == "ebm" { 0.3 } else { 0.6 };
            assert!(
                run.matrix[0][0] > floor,
                "{} seed {}: task 0 after task 0 {:.3}",
                method.name,
                run.seed,
                run.matrix[0][0]
            );
        }
    }
    let ebm = &report.methods[0];
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
    for name in ["ebm", "adam"] {
        assert!(out.join(format!("heatmap-{name}.png")).is_file(), "{name}");
    }
    assert!(report.table().contains("64.99"), "{}", report.table());
    std::fs::remove_dir_all(&out).unwrap();
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
