//! What a load run measured, per transaction: counts, latency in HDR histograms (whole run and per
//! second), and `load.json`, whose histograms are serialised in the HdrHistogram V2 form (base64) so
//! that the files of several load processes (shards) add up: [`merge`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hdrhistogram::serialization::{Deserializer, Serializer as _, V2Serializer};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Highest latency a histogram holds, in microseconds (ten minutes); longer ones count as this.
const MAX_MICROS: u64 = 600_000_000;

/// A latency histogram in microseconds, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    // Constant bounds that `new_with_bounds` accepts (low ≥ 1, high ≥ 2 × low, sigfig ≤ 5).
    Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("constant histogram bounds")
}

/// Why a load file could not be read, written or merged.
#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not a load.json.
    #[error("{path}: not a load.json: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// One transaction's counts and latencies, while it runs.
#[derive(Debug, Clone)]
pub struct TxStats {
    /// Requests sent (answered or not).
    pub requests: u64,
    /// Requests that got no complete answer (transport: connect, timeout, read).
    pub errors: u64,
    /// Sampled answers that a check found wrong.
    pub failures: u64,
    /// Sampled answers judged.
    pub sampled: u64,
    /// Latency of every answered request (to the end of the body), microseconds.
    pub histogram: Histogram<u64>,
    /// The same per second of the run (index: whole seconds since the start).
    pub seconds: Vec<SecondStats>,
}

/// One second of one transaction.
#[derive(Debug, Clone)]
pub struct SecondStats {
    /// Requests that ended in this second.
    pub requests: u64,
    /// Of which errors.
    pub errors: u64,
    /// Of which failures.
    pub failures: u64,
    /// Their latencies.
    pub histogram: Histogram<u64>,
}

impl SecondStats {
    fn new() -> SecondStats {
        SecondStats {
            requests: 0,
            errors: 0,
            failures: 0,
            histogram: new_histogram(),
        }
    }
}

impl Default for TxStats {
    fn default() -> Self {
        TxStats {
            requests: 0,
            errors: 0,
            failures: 0,
            sampled: 0,
            histogram: new_histogram(),
            seconds: Vec::new(),
        }
    }
}

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Answered; judged right or not sampled.
    Ok,
    /// Answered, sampled, and a check found it wrong.
    Failure,
    /// No complete answer.
    Error,
}

impl TxStats {
    /// Count one request that ended `second` seconds into the run after `micros`.
    pub fn record(&mut self, second: usize, micros: u64, ending: Ending, sampled: bool) {
        self.requests += 1;
        if sampled {
            self.sampled += 1;
        }
        while self.seconds.len() <= second {
            self.seconds.push(SecondStats::new());
        }
        let s = &mut self.seconds[second];
        s.requests += 1;
        match ending {
            Ending::Error => {
                self.errors += 1;
                s.errors += 1;
                return;
            }
            Ending::Failure => {
                self.failures += 1;
                s.failures += 1;
            }
            Ending::Ok => {}
        }
        let v = micros.clamp(1, MAX_MICROS);
        self.histogram.saturating_record(v);
        s.histogram.saturating_record(v);
    }

    /// Add another user's (or shard's) figures to these.
    pub fn add(&mut self, other: &TxStats) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.failures += other.failures;
        self.sampled += other.sampled;
        // Both sides have the same bounds: adding cannot fall out of range.
        let _ = self.histogram.add(&other.histogram);
        while self.seconds.len() < other.seconds.len() {
            self.seconds.push(SecondStats::new());
        }
        for (mine, theirs) in self.seconds.iter_mut().zip(&other.seconds) {
            mine.requests += theirs.requests;
            mine.errors += theirs.errors;
            mine.failures += theirs.failures;
            let _ = mine.histogram.add(&theirs.histogram);
        }
    }
}

/// `load.json`: one load process's (or a merge's) results.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LoadFile {
    /// The harness version that wrote it.
    pub harness_version: String,
    /// The SUT's name.
    pub sut: String,
    /// The tag expression.
    pub tags: String,
    /// Virtual users of this process (of all shards, for a merge).
    pub users: u64,
    /// `I/N` when the process was one shard; the shards merged, for a merge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<String>,
    /// Every K-th answer was judged.
    pub sample_every: u64,
    /// Wall time of the replay in seconds (the longest shard's, for a merge).
    pub elapsed_s: f64,
    /// One row per transaction, sorted by transaction.
    pub transactions: Vec<TxRow>,
    /// The first failures found (check and what was wrong), at most [`MAX_MESSAGES`].
    #[serde(default)]
    pub failure_messages: Vec<String>,
    /// The first errors, at most [`MAX_MESSAGES`].
    #[serde(default)]
    pub error_messages: Vec<String>,
}

/// Messages kept in a load.json.
pub const MAX_MESSAGES: usize = 20;

/// One transaction in load.json.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TxRow {
    /// `RAD-129`.
    pub transaction: String,
    /// Requests sent.
    pub requests: u64,
    /// Requests per second of the replay.
    pub requests_per_s: f64,
    /// Requests without a complete answer.
    pub errors: u64,
    /// Sampled answers found wrong.
    pub failures: u64,
    /// Sampled answers judged.
    pub sampled: u64,
    /// Latency percentiles and maximum of answered requests, milliseconds.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Maximum.
    pub max_ms: f64,
    /// The latency histogram (microseconds), HdrHistogram V2 serialised, base64.
    pub histogram: String,
    /// Per second of the replay.
    pub seconds: Vec<SecondRow>,
}

/// One second of one transaction in load.json.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SecondRow {
    /// Whole seconds since the replay started.
    pub second: usize,
    /// Requests that ended in it.
    pub requests: u64,
    /// Of which errors.
    pub errors: u64,
    /// Of which failures.
    pub failures: u64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
    /// Its latency histogram (microseconds), V2 base64.
    pub histogram: String,
}

fn ms(micros: u64) -> f64 {
    (micros as f64 / 1000.0 * 1000.0).round() / 1000.0
}

/// A histogram in the HdrHistogram V2 form, base64.
pub fn encode(h: &Histogram<u64>) -> String {
    use base64::Engine as _;
    let mut buf = Vec::new();
    // Serialising into a Vec cannot fail for a histogram of this size.
    let _ = V2Serializer::new().serialize(h, &mut buf);
    base64::engine::general_purpose::STANDARD.encode(buf)
}

/// The histogram [`encode`] wrote.
pub fn decode(s: &str) -> Result<Histogram<u64>, String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|e| format!("histogram is not base64: {e}"))?;
    let h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut std::io::Cursor::new(bytes))
        .map_err(|e| format!("histogram is not an HdrHistogram V2 one: {e}"))?;
    let mut out = new_histogram();
    out.add(&h)
        .map_err(|e| format!("histogram out of range: {e}"))?;
    Ok(out)
}

/// The row of a transaction.
pub fn row(transaction: &str, s: &TxStats, elapsed_s: f64) -> TxRow {
    let h = &s.histogram;
    TxRow {
        transaction: transaction.to_string(),
        requests: s.requests,
        requests_per_s: if elapsed_s > 0.0 {
            (s.requests as f64 / elapsed_s * 10.0).round() / 10.0
        } else {
            0.0
        },
        errors: s.errors,
        failures: s.failures,
        sampled: s.sampled,
        p50_ms: ms(h.value_at_quantile(0.50)),
        p95_ms: ms(h.value_at_quantile(0.95)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        max_ms: ms(h.max()),
        histogram: encode(h),
        seconds: s
            .seconds
            .iter()
            .enumerate()
            .map(|(i, sec)| SecondRow {
                second: i,
                requests: sec.requests,
                errors: sec.errors,
                failures: sec.failures,
                p99_ms: ms(sec.histogram.value_at_quantile(0.99)),
                histogram: encode(&sec.histogram),
            })
            .collect(),
    }
}

/// The figures of a row, histograms decoded.
pub fn stats_of(r: &TxRow) -> Result<TxStats, String> {
    let mut seconds = Vec::new();
    for s in &r.seconds {
        while seconds.len() < s.second {
            seconds.push(SecondStats::new());
        }
        let h = decode(&s.histogram)?;
        if seconds.len() == s.second {
            seconds.push(SecondStats {
                requests: s.requests,
                errors: s.errors,
                failures: s.failures,
                histogram: h,
            });
        } else {
            let x = &mut seconds[s.second];
            x.requests += s.requests;
            x.errors += s.errors;
            x.failures += s.failures;
            let _ = x.histogram.add(&h);
        }
    }
    Ok(TxStats {
        requests: r.requests,
        errors: r.errors,
        failures: r.failures,
        sampled: r.sampled,
        histogram: decode(&r.histogram)?,
        seconds,
    })
}

/// Rows for every transaction, sorted by transaction.
pub fn rows(stats: &BTreeMap<String, TxStats>, elapsed_s: f64) -> Vec<TxRow> {
    stats.iter().map(|(t, s)| row(t, s, elapsed_s)).collect()
}

/// Add the results of several load processes (shards of one load run, which ran at the same
/// time): counts and histograms add up, seconds add by their index, the wall time is the
/// longest one's, and requests/s is the sum of requests over that wall time.
pub fn merge(files: &[LoadFile]) -> Result<LoadFile, String> {
    let Some(first) = files.first() else {
        return Err("nothing to merge".into());
    };
    let mut stats: BTreeMap<String, TxStats> = BTreeMap::new();
    let mut out = LoadFile {
        harness_version: first.harness_version.clone(),
        sut: first.sut.clone(),
        tags: first.tags.clone(),
        users: 0,
        shards: Vec::new(),
        sample_every: first.sample_every,
        elapsed_s: 0.0,
        transactions: Vec::new(),
        failure_messages: Vec::new(),
        error_messages: Vec::new(),
    };
    for f in files {
        out.users += f.users;
        out.shards.extend(f.shards.iter().cloned());
        out.elapsed_s = out.elapsed_s.max(f.elapsed_s);
        for r in &f.transactions {
            let s = stats_of(r).map_err(|e| format!("{}: {e}", r.transaction))?;
            stats.entry(r.transaction.clone()).or_default().add(&s);
        }
        for m in &f.failure_messages {
            if out.failure_messages.len() < MAX_MESSAGES {
                out.failure_messages.push(m.clone());
            }
        }
        for m in &f.error_messages {
            if out.error_messages.len() < MAX_MESSAGES {
                out.error_messages.push(m.clone());
            }
        }
    }
    out.transactions = rows(&stats, out.elapsed_s);
    Ok(out)
}

/// Read a load.json.
pub fn read(path: &Path) -> Result<LoadFile, StatsError> {
    let bytes = std::fs::read(path).map_err(|source| StatsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|e| StatsError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Write a load.json.
pub fn write(path: &Path, file: &LoadFile) -> Result<(), StatsError> {
    let text = serde_json::to_string_pretty(file).map_err(|e| StatsError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    std::fs::write(path, text + "\n").map_err(|source| StatsError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The console table: one line per transaction and a total.
pub fn table(file: &LoadFile) -> String {
    let mut out = format!(
        "{:<10} {:>10} {:>10} {:>7} {:>8} {:>9} {:>9} {:>9} {:>9}\n",
        "txn", "requests", "req/s", "errors", "failures", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
    let (mut req, mut err, mut fail) = (0u64, 0u64, 0u64);
    for r in &file.transactions {
        req += r.requests;
        err += r.errors;
        fail += r.failures;
        out.push_str(&format!(
            "{:<10} {:>10} {:>10.1} {:>7} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.2}\n",
            r.transaction,
            r.requests,
            r.requests_per_s,
            r.errors,
            r.failures,
            r.p50_ms,
            r.p95_ms,
            r.p99_ms,
            r.max_ms
        ));
    }
    let rate = if file.elapsed_s > 0.0 {
        req as f64 / file.elapsed_s
    } else {
        0.0
    };
    out.push_str(&format!(
        "{:<10} {:>10} {:>10.1} {:>7} {:>8}\n",
        "total", req, rate, err, fail
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(shard: &str, latencies: &[u64], errors: u64) -> LoadFile {
        let mut s = TxStats::default();
        for (i, l) in latencies.iter().enumerate() {
            s.record(i % 2, *l, Ending::Ok, false);
        }
        for _ in 0..errors {
            s.record(0, 0, Ending::Error, false);
        }
        s.record(1, 5, Ending::Failure, true);
        let mut m = BTreeMap::new();
        m.insert("RAD-129".to_string(), s);
        LoadFile {
            harness_version: "0".into(),
            sut: "s".into(),
            tags: "@txn:RAD-129".into(),
            users: 2,
            shards: vec![shard.into()],
            sample_every: 1,
            elapsed_s: 2.0,
            transactions: rows(&m, 2.0),
            failure_messages: vec!["x".into()],
            error_messages: Vec::new(),
        }
    }

    #[test]
    fn histograms_survive_their_serialised_form() {
        let mut h = new_histogram();
        for v in [1, 10, 100, 1000, 123_456] {
            h.record(v).unwrap_or_default();
        }
        let back = decode(&encode(&h)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.len(), 5);
        assert_eq!(back.max(), h.max());
        assert_eq!(back.value_at_quantile(0.5), h.value_at_quantile(0.5));
        assert!(decode("not base64!").is_err());
        assert!(decode("AAAA").is_err());
    }

    #[test]
    fn merge_adds_counts_and_histograms() {
        let fast = file("1/2", &[100, 200, 300, 400], 1);
        let slow = file("2/2", &[10_000, 20_000, 30_000], 0);
        let merged = merge(&[fast.clone(), slow.clone()]).unwrap_or_else(|e| panic!("{e}"));
        let r = &merged.transactions[0];
        assert_eq!(r.requests, 6 + 4);
        assert_eq!(r.errors, 1);
        assert_eq!(r.failures, 2);
        assert_eq!(r.sampled, 2);
        assert_eq!(merged.users, 4);
        assert_eq!(merged.shards, vec!["1/2", "2/2"]);
        let h = decode(&r.histogram).unwrap_or_else(|e| panic!("{e}"));
        // Answered: 4 + 3 latencies and one failure each (errors carry no latency).
        assert_eq!(h.len(), 9);
        assert_eq!(r.seconds.len(), 2);
        assert_eq!(
            r.seconds.iter().map(|s| s.requests).sum::<u64>(),
            r.requests
        );
        let p99 = |f: &LoadFile| f.transactions[0].p99_ms;
        assert!(p99(&fast) <= r.p99_ms && r.p99_ms <= p99(&slow));
        assert!((r.requests_per_s - 5.0).abs() < 1e-9);
        assert_eq!(merged.failure_messages.len(), 2);
        // A merge of a merge with nothing else changes nothing.
        let again = merge(std::slice::from_ref(&merged)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.transactions, merged.transactions);
        assert!(merge(&[]).is_err());
    }

    #[test]
    fn table_has_a_line_per_transaction_and_a_total() {
        let t = table(&file("1/1", &[1000], 0));
        assert!(t.contains("RAD-129"), "{t}");
        assert!(
            t.lines().last().is_some_and(|l| l.starts_with("total")),
            "{t}"
        );
    }
}
