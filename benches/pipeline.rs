//! `cargo bench`: a quick, self-contained throughput check of the whole pipeline against the
//! bare libyaml-safer event loop on the same text (the ceiling), on one core. It builds its own
//! 9 MB corpus in a temporary folder (Services, Deployments and `NetworkPolicies` over 20
//! namespaces, one file each; one Service in 50 has externalIPs, a third of the policies are
//! egress-only), so it needs nothing outside the repository. `scripts/bench.sh` is the full
//! benchmark (50 MB corpora, peak RSS, all cores, scaling, the peer).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use extip_lint::config::{self, Overrides};
use extip_lint::render::{self, Format, Options};

const NAMESPACES: usize = 20;
const APPS_PER_NAMESPACE: usize = 500;
const ROUNDS: usize = 3;

fn corpus() -> Vec<String> {
    (0..NAMESPACES)
        .map(|n| {
            let mut text = String::new();
            for a in 0..APPS_PER_NAMESPACE {
                let _ = write!(
                    text,
                    "---\n# Source: chart/templates/app.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: app-{a}\n  namespace: ns-{n}\n  labels: {{app.kubernetes.io/name: app-{a}, team: t{}}}\nspec:\n  selector:\n    app: app-{a}\n  ports:\n  - {{name: http, port: 80, targetPort: 8080}}\n",
                    a % 7
                );
                if a % 50 == 0 {
                    let _ = writeln!(text, "  externalIPs: [192.0.2.{}, \"10.{n}.0.1\"]", a % 250);
                }
                let _ = write!(
                    text,
                    "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app-{a}, namespace: ns-{n}}}\nspec:\n  replicas: 2\n  selector: {{matchLabels: {{app: app-{a}}}}}\n  template:\n    metadata:\n      labels: {{app: app-{a}, tier: web}}\n    spec:\n      containers:\n      - name: main\n        image: \"registry.example/app-{a}:1.0\"\n        args: [\"--port=8080\", \"--verbose\"]\n        resources: {{limits: {{cpu: 500m, memory: 256Mi}}}}\n"
                );
                let types = if a % 3 == 0 { "[Egress]" } else { "[Ingress]" };
                let _ = write!(
                    text,
                    "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: app-{a}, namespace: ns-{n}}}\nspec:\n  podSelector: {{matchLabels: {{app: app-{a}}}}}\n  policyTypes: {types}\n  ingress:\n  - from: [{{podSelector: {{matchLabels: {{app: client}}}}}}]\n"
                );
            }
            text
        })
        .collect()
}

fn best(mut run: impl FnMut()) -> Duration {
    (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let texts = corpus();
    let bytes: usize = texts.iter().map(String::len).sum();
    let dir = tempfile::tempdir().expect("temporary folder");
    for (i, t) in texts.iter().enumerate() {
        std::fs::write(dir.path().join(format!("ns-{i}.yaml")), t).expect("write corpus");
    }
    let parse = best(|| {
        for t in &texts {
            let mut parser = libyaml_safer::Parser::new();
            parser.set_input(extip_lint::yaml::Slices::new(t));
            while let Ok(e) = parser.parse() {
                if e.data == libyaml_safer::EventData::StreamEnd {
                    break;
                }
            }
        }
    });
    let (mut settings, _) =
        config::load(None, &Overrides::default(), &extip_lint::rules::CATALOG).expect("defaults");
    settings.paths = vec![dir.path().to_path_buf()];
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .stack_size(16 << 20)
        .build()
        .expect("one-thread pool");
    let mut findings = 0;
    let lint = best(|| {
        pool.install(|| {
            let report = extip_lint::lint(&settings, None);
            findings = report.findings.len();
            render::render(
                &report,
                Format::Sarif,
                &Options::default(),
                &mut std::io::sink(),
            )
            .expect("render");
        });
    });
    let mb = f64::from(u32::try_from(bytes).unwrap_or(u32::MAX)) / 1_048_576.0;
    println!(
        "{mb:.1} MB, {} documents, {findings} findings (after the per-file cap), one core, best of {ROUNDS}",
        NAMESPACES * APPS_PER_NAMESPACE * 3
    );
    println!(
        "parse only (ceiling)    {:>7.3} s  {:>6.1} MB/s",
        parse.as_secs_f64(),
        mb / parse.as_secs_f64()
    );
    println!(
        "extip-lint, SARIF       {:>7.3} s  {:>6.1} MB/s",
        lint.as_secs_f64(),
        mb / lint.as_secs_f64()
    );
    println!(
        "end to end / ceiling    {:>6.0}%",
        100.0 * parse.as_secs_f64() / lint.as_secs_f64()
    );
}
