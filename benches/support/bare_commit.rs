//! The baseline the durability benchmarks compare with: a bare redb write transaction of one row
//! (`Durability::Immediate`) in a file of its own on the same disk, measured in the same run, so
//! "Bert's commit ÷ bare commit" says what Bert adds on top of the fsync.

use redb::{Database, Durability, TableDefinition};
use std::path::Path;
use std::time::{Duration, Instant};

const BARE: TableDefinition<u64, &[u8]> = TableDefinition::new("bare");

pub struct BareCommit {
    db: Database,
    payload: Vec<u8>,
    seq: u64,
}

impl BareCommit {
    pub fn new(path: &Path, bytes: usize) -> Self {
        BareCommit { db: Database::create(path).expect("bare db"), payload: vec![7u8; bytes], seq: 0 }
    }

    pub fn commit(&mut self) {
        let mut tx = self.db.begin_write().expect("begin");
        tx.set_durability(Durability::Immediate).expect("durability");
        {
            let mut t = tx.open_table(BARE).expect("table");
            t.insert(self.seq, self.payload.as_slice()).expect("insert");
        }
        tx.commit().expect("commit");
        self.seq += 1;
    }

    /// `n` commits, each timed on its own, sorted for [`percentile`].
    pub fn latencies(&mut self, n: usize) -> Vec<Duration> {
        let mut out: Vec<Duration> = (0..n)
            .map(|_| {
                let t0 = Instant::now();
                self.commit();
                t0.elapsed()
            })
            .collect();
        out.sort();
        out
    }
}

/// The `p` quantile (0..=1) of sorted latencies.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}
