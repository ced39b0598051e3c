//! Arbitrary bytes as `.extip-lint.yaml`; a config that loads is then used on a small manifest.
#![no_main]

use extip_lint::config::{self, ConfigFile, Overrides};
use extip_lint::render::{self, Format, Options};
use libfuzzer_sys::fuzz_target;

const MANIFEST: &str = "apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, annotations: {service.beta.kubernetes.io/aws-load-balancer-type: nlb}}
spec:
  selector: {app: web}
  externalIPs: [203.0.113.7, 10.0.0.1, 0.0.0.0, '::ffff:10.0.0.1', 010.1.2.3]
";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = ConfigFile {
        path: ".extip-lint.yaml".into(),
        text: text.to_string(),
    };
    let Ok((mut settings, _)) = config::from_file(Some(file), &Overrides::default(), &extip_lint::rules::CATALOG) else {
        return;
    };
    settings.paths = vec!["-".into()];
    settings.inventory = true;
    let report = extip_lint::lint(&settings, Some(MANIFEST.as_bytes().to_vec()));
    let mut out = Vec::new();
    render::render(&report, Format::Sarif, &Options::default(), &mut out).expect("renders");
    render::render(&report, Format::Human, &Options::default(), &mut out).expect("renders");
});
