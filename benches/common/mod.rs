//! Inputs shared by the benchmarks.

use std::fmt::Write as _;

/// `n` Deployments over `n / 50` namespaces and `n / 10` NetworkPolicies with label and
/// expression selectors; deterministic.
pub fn cluster(n: usize) -> String {
    let namespaces = (n / 50).max(1);
    let mut y = String::with_capacity(n * 600);
    for i in 0..n {
        let ns = i % namespaces;
        let app = mix(i) % 40;
        let _ = write!(
            y,
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{i}\n  namespace: ns{ns}\nspec:\n  selector:\n    matchLabels:\n      app: a{app}\n  template:\n    metadata:\n      labels:\n        app: a{app}\n        tier: t{}\n    spec:\n      containers:\n        - name: c\n          image: registry.example.com/app:1.{i}\n",
            i % 3
        );
    }
    for j in 0..n / 10 {
        let ns = j % namespaces;
        // about half of the workloads end up selected by no policy
        let sel = if j % 5 != 0 {
            format!(
                "    matchLabels:\n      app: a{}\n",
                mix(j + 1_000_000) % 40
            )
        } else {
            format!(
                "    matchExpressions:\n      - key: tier\n        operator: In\n        values: [t{}]\n      - key: app\n        operator: NotIn\n        values: [a{}]\n",
                j % 3,
                j % 40
            )
        };
        let _ = write!(
            y,
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: np{j}\n  namespace: ns{ns}\nspec:\n  podSelector:\n{sel}"
        );
    }
    y
}

/// A fixed pseudo-random mix, so the generated cluster is the same on every run.
pub fn mix(x: usize) -> usize {
    let mut h = (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    h ^= h >> 31;
    (h % 1_000_003) as usize
}
