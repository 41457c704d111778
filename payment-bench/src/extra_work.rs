//! A known amount of CPU work per request, added to the baseline on request
//! (`baseline --extra-work-us N`), to measure how much throughput a given cost per
//! callback is worth on the machine at hand (BENCHMARKS.md, "Calibration").

use std::{hint::black_box, time::Instant};

/// Work that takes about a fixed time on an idle core: a chain of dependent
/// multiply-adds that the compiler can neither drop nor shorten.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExtraWork {
    iterations: u64,
}

impl ExtraWork {
    /// Work of about `micros` µs, sized by timing the loop here and now (the fastest of
    /// several tries, so that a busy moment does not shrink it).
    pub(crate) fn calibrated(micros: f64) -> Self {
        const PROBE: u64 = 200_000;
        let fastest = (0..20)
            .map(|_| {
                let started = Instant::now();
                spin(PROBE);
                started.elapsed().as_nanos().max(1)
            })
            .min()
            .unwrap_or(1);
        let per_iteration_ns = fastest as f64 / PROBE as f64;
        Self {
            iterations: (micros * 1_000.0 / per_iteration_ns).round() as u64,
        }
    }

    /// Does the work.
    pub(crate) fn run(self) {
        spin(self.iterations);
    }

    /// How many loop iterations the work is.
    pub(crate) fn iterations(self) -> u64 {
        self.iterations
    }
}

fn spin(iterations: u64) {
    let mut x = 0u64;
    for i in 0..iterations {
        x = black_box(x.wrapping_mul(31).wrapping_add(i));
    }
    black_box(x);
}
