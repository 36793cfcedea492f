//! The process's own peak resident memory.

/// Peak resident set of this process in MiB (`VmHWM` of `/proc/self/status`); `None` where the
/// OS does not report it.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_hwm(&status)
}

/// `VmHWM:   123456 kB` as MiB.
fn parse_vm_hwm(status: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The line `ebm train` ends with, which `ebm bench` reads back.
pub fn peak_line(mib: f64) -> String {
    format!("peak resident memory: {mib:.1} MiB")
}

/// The figure of a [`peak_line`] anywhere in `text`.
pub fn parse_peak_line(text: &str) -> Option<f64> {
    text.lines().rev().find_map(|l| {
        l.trim()
            .strip_prefix("peak resident memory: ")?
            .strip_suffix(" MiB")?
            .parse()
            .ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vm_hwm_and_round_trips_the_line() {
        let status = "Name:\tebm\nVmPeak:\t  900000 kB\nVmHWM:\t  524288 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(512.0));
        assert_eq!(parse_vm_hwm("Name: x\n"), None);
        let text = format!("training...\n{}\n", peak_line(1234.5));
        assert_eq!(parse_peak_line(&text), Some(1234.5));
        assert_eq!(parse_peak_line("nothing"), None);
        #[cfg(target_os = "linux")]
        assert!(peak_rss_mib().is_some_and(|m| m > 0.0));
    }
}
