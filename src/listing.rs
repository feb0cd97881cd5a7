//! `ihe-harness list`: the scenarios a run would execute, with their tags and the requirements
//! their `@req:` tags name, read straight from the feature files (no SUT needed): those compiled into
//! the harness, or those of a `--features` folder.

use std::path::{Path, PathBuf};

use cucumber::tag::Ext as _;

use crate::checks;
use crate::runner::{parse_tags, scenario_tags, FeatureSource, HarnessError};

/// One listed scenario.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Feature file.
    pub file: PathBuf,
    /// Feature name.
    pub feature: String,
    /// Scenario name.
    pub scenario: String,
    /// Line.
    pub line: usize,
    /// Tags.
    pub tags: Vec<String>,
}

fn feature_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            feature_files(&p, out)?;
        } else if p.extension().map(|x| x == "feature").unwrap_or(false) {
            out.push(p);
        }
    }
    Ok(())
}

/// Every feature of `source`, parsed, in path order.
fn features(source: &FeatureSource) -> Result<Vec<cucumber::gherkin::Feature>, HarnessError> {
    let dir = match source {
        FeatureSource::Embedded => {
            return crate::assets::features()
                .into_iter()
                .map(|f| f.map_err(|e| HarnessError::Features(e.to_string())))
                .collect()
        }
        FeatureSource::Folder(dir) => dir,
    };
    let mut files = Vec::new();
    feature_files(dir, &mut files)
        .map_err(|e| HarnessError::Features(format!("{}: {e}", dir.display())))?;
    files
        .iter()
        .map(|file| {
            cucumber::gherkin::Feature::parse_path(file, cucumber::gherkin::GherkinEnv::default())
                .map_err(|e| HarnessError::Features(format!("{}: {e}", file.display())))
        })
        .collect()
}

/// Every scenario of `source` that `tags` selects.
pub fn scenarios(source: &FeatureSource, tags: Option<&str>) -> Result<Vec<Listed>, HarnessError> {
    let filter = tags.map(parse_tags).transpose()?;
    let mut out = Vec::new();
    for feature in features(source)? {
        let file = feature.path.clone().unwrap_or_default();
        let mut all: Vec<(
            Option<&cucumber::gherkin::Rule>,
            &cucumber::gherkin::Scenario,
        )> = feature.scenarios.iter().map(|s| (None, s)).collect();
        for r in &feature.rules {
            all.extend(r.scenarios.iter().map(|s| (Some(r), s)));
        }
        for (rule, s) in all {
            let t = scenario_tags(&feature, rule, s);
            // A Scenario Outline runs once per row of its Examples, named with the row's values
            // and placed at the row's line, as a run reports it.
            let mut runs: Vec<(String, usize, Vec<String>)> = Vec::new();
            for ex in &s.examples {
                let Some(table) = &ex.table else { continue };
                let Some((head, rows)) = table.rows.split_first() else {
                    continue;
                };
                for (i, row) in rows.iter().enumerate() {
                    let mut name = s.name.clone();
                    for (k, v) in head.iter().zip(row) {
                        name = name.replace(&format!("<{k}>"), v);
                    }
                    let mut tags = t.clone();
                    tags.extend(ex.tags.iter().cloned());
                    runs.push((name, table.position.line + 1 + i, tags));
                }
            }
            if s.examples.is_empty() {
                runs.push((s.name.clone(), s.position.line, t));
            }
            for (name, line, tags) in runs {
                if filter.as_ref().map(|f| f.eval(tags.iter())).unwrap_or(true) {
                    out.push(Listed {
                        file: file.clone(),
                        feature: feature.name.clone(),
                        scenario: name,
                        line,
                        tags,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Render the listing as text.
pub fn render(list: &[Listed]) -> String {
    let mut s = String::new();
    for l in list {
        s.push_str(&format!(
            "{}:{}  {}\n",
            l.file.display(),
            l.line,
            l.scenario
        ));
        let tags: Vec<String> = l.tags.iter().map(|t| format!("@{t}")).collect();
        s.push_str(&format!("    tags: {}\n", tags.join(" ")));
        for t in l.tags.iter().filter_map(|t| t.strip_prefix("req:")) {
            match checks::by_id(t) {
                Some(c) => s.push_str(&format!("    {} [{}] {}\n", c.id, c.requirement, c.title)),
                None => s.push_str(&format!("    {t} [unknown requirement key]\n")),
            }
        }
    }
    s.push_str(&format!("{} scenarios\n", list.len()));
    s
}
