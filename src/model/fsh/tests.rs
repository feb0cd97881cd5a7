//! Unit tests of the FSH compiler.

use super::*;

#[test]
fn dev_dump_corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus");
    for sub in ["mhd", "mado", "report"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().and_then(|x| x.to_str()) != Some("fsh") {
                continue;
            }
            match compile(&std::fs::read(&p).unwrap()) {
                Err(e) => println!("=== {}: ERROR {e}", p.display()),
                Ok(f) => {
                    for i in &f.instances {
                        println!("=== {} {} {:?}", p.display(), i.name, i.usage);
                        for u in &i.unresolved {
                            println!("  ?? {:?} {} {}", u.kind, u.path, u.note);
                        }
                        if std::env::var("DUMP").is_ok() {
                            println!("{}", serde_json::to_string_pretty(&i.resource).unwrap());
                        }
                    }
                }
            }
        }
    }
}
