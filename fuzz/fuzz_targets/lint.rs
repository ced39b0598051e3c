//! Arbitrary bytes on standard input, through the whole pipeline and every output format.
//! Must never panic, hang or grow without bound (see CONTRIBUTING.md).
#![no_main]

use extip_lint::config::{self, Overrides};
use extip_lint::render::{self, Format, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (mut settings, _) = config::load(None, &Overrides::default(), &extip_lint::rules::CATALOG).expect("defaults load");
    settings.paths = vec!["-".into()];
    settings.stdin_filename = Some("fuzz.yaml".into());
    settings.inventory = true;
    let report = extip_lint::lint(&settings, Some(data.to_vec()));
    for format in [
        Format::Human,
        Format::Short,
        Format::Json,
        Format::Sarif,
        Format::Github,
    ] {
        let mut out = Vec::new();
        render::render(&report, format, &Options::default(), &mut out).expect("renders to memory");
    }
});
