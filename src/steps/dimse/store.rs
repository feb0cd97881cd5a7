//! DIMSE C-STORE as an SCU: the fixture images (re-identified copies in load mode) stored and the
//! answers judged.

use super::*;

// ---------------------------------------------------------------------------------------------
// C-STORE

/// The seed of the re-identified copies of this run (PS3.5 §B.2 `2.25` UIDs drawn from it).
fn copies_seed() -> &'static str {
    static SEED: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SEED.get_or_init(crate::model::reidentify::run_seed)
}

/// Why the re-identified copies of a series could not be made.
#[derive(Debug, thiserror::Error)]
enum CopyError {
    /// A fixture file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The fixture file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A fixture file could not be re-identified.
    #[error("{}: {source}", path.display())]
    Reidentify {
        /// The fixture file.
        path: PathBuf,
        /// Why it could not be re-identified.
        source: crate::model::reidentify::ReidentifyError,
    },
    /// A copy could not be written.
    #[error("{}: {source}", path.display())]
    Write {
        /// The copy.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The copying task did not finish.
    #[error(transparent)]
    Task(#[from] tokio::task::JoinError),
}

/// Copies of `insts` (and of their Explicit VR Little Endian twins) under fresh Study, Series and
/// SOP Instance UIDs and a patient of their own, written into `dir`: instances no SUT has seen,
/// whatever the load mode stored before. One map per call, so the copies of a series stay one new
/// series.
fn reidentified(
    fixtures: &crate::model::fixtures::Fixtures,
    insts: &[FixtureInstance],
    dir: &std::path::Path,
) -> Result<Vec<StoreFile>, CopyError> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let n = CALLS.fetch_add(1, Ordering::Relaxed);
    let mut map =
        crate::model::reidentify::UidMap::new(format!("{}/dimse-store/{n}", copies_seed()));
    let mut copy = |from: &std::path::Path, name: String| -> Result<PathBuf, CopyError> {
        let bytes = std::fs::read(from).map_err(|source| CopyError::Read {
            path: from.to_path_buf(),
            source,
        })?;
        let c = crate::model::reidentify::reidentify(&bytes, &mut map).map_err(|source| {
            CopyError::Reidentify {
                path: from.to_path_buf(),
                source,
            }
        })?;
        let to = dir.join(name);
        if let Err(source) = std::fs::write(&to, &c.bytes) {
            return Err(CopyError::Write { path: to, source });
        }
        Ok(to)
    };
    insts
        .iter()
        .enumerate()
        .map(|(k, i)| {
            let path = copy(&fixtures.file(i), format!("{:04}.dcm", k + 1))?;
            let fallback = match &i.ele_path {
                Some(ele) => Some(copy(
                    &fixtures.dir.join(ele),
                    format!("{:04}.ele.dcm", k + 1),
                )?),
                None => None,
            };
            Ok(StoreFile { path, fallback })
        })
        .collect()
}

/// Store re-identified copies of a fixture series: new instances to the SUT even when load mode
/// stored the fixtures before (a server may refuse or flag a duplicate, PS3.4 §B.2.3 leaves it
/// open), so that the statuses judged are those of new instances.
#[when(expr = "the SCU stores series {int} of study {string}")]
async fn store_series(world: &mut HarnessWorld, number: i64, alias: String) -> StepResult {
    let insts = series_instances(world, &alias, number)?;
    let s = scu(world)?;
    let dir = match tempfile::Builder::new()
        .prefix("ihe-harness-copies-")
        .tempdir()
    {
        Ok(d) => d,
        Err(e) => return Err(harness_error(world, "no temporary folder", e.to_string())),
    };
    let fixtures = world.ctx.clone();
    let (to, list) = (dir.path().to_path_buf(), insts.clone());
    let files = tokio::task::spawn_blocking(move || reidentified(&fixtures.fixtures, &list, &to))
        .await
        .unwrap_or_else(|e| Err(CopyError::Task(e)));
    let files = match files {
        Ok(f) => f,
        Err(e) => {
            return Err(harness_error(
                world,
                "no re-identified copies",
                e.to_string(),
            ))
        }
    };
    let mut ex = s.store_files(&files).await;
    keep_copies(&mut ex, &files);
    record_dimse(world, ex, DimseExpect::default())
}

/// Most bytes of re-identified copies kept for the evidence folder of one exchange.
const MAX_KEPT_COPIES: u64 = 64 * 1024 * 1024;

/// Keep the re-identified copies `ex` sent for its evidence folder (they live in a temporary
/// folder): its command line then names them there. Past [`MAX_KEPT_COPIES`] they are not kept,
/// and the command line says so.
fn keep_copies(ex: &mut crate::evidence::Exchange, files: &[StoreFile]) {
    let paths: Vec<&PathBuf> = files
        .iter()
        .flat_map(|f| std::iter::once(&f.path).chain(f.fallback.as_ref()))
        .collect();
    let total: u64 = paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    if total > MAX_KEPT_COPIES {
        ex.repro = format!(
            "# the re-identified copies this stored ({total} bytes) were not kept\n# {}",
            ex.repro
        );
        return;
    }
    let mut kept = Vec::new();
    for p in paths {
        // Only what the command line sends (a copy's uncompressed twin goes only if it was sent).
        let named = crate::actors::dimse_scu::absolute(p);
        if !ex.repro.contains(&named) {
            continue;
        }
        let (Some(name), Ok(bytes)) = (p.file_name(), std::fs::read(p)) else {
            continue;
        };
        let name = name.to_string_lossy().to_string();
        ex.repro = ex.repro.replace(&named, &format!("@files/{name}"));
        kept.push((name, bytes::Bytes::from(bytes)));
    }
    if let Some(r) = ex.dimse.as_deref_mut() {
        r.attachments = kept;
        r.dcmtk = ex.repro.clone();
    }
}

/// Store a fixture series as the archive already holds it (load mode stored it, or the profile
/// says the SUT was preloaded with it): each instance is a duplicate.
#[when(expr = "the SCU stores series {int} of study {string} again, as the archive holds it")]
async fn store_duplicates(world: &mut HarnessWorld, number: i64, alias: String) -> StepResult {
    let insts = series_instances(world, &alias, number)?;
    let s = scu(world)?;
    let files: Vec<StoreFile> = insts
        .iter()
        .map(|i| StoreFile {
            path: world.ctx.fixtures.file(i),
            fallback: i.ele_path.as_ref().map(|p| world.ctx.fixtures.dir.join(p)),
        })
        .collect();
    let ex = s.store_files(&files).await;
    record_dimse(
        world,
        ex,
        DimseExpect {
            duplicates: true,
            ..DimseExpect::default()
        },
    )
}

#[then("every instance is acknowledged with success or a warning")]
async fn acknowledged(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-12"])
}

#[then(
    "every instance is answered as a duplicate may be: stored, warned or refused as a duplicate"
)]
async fn duplicate_answered(world: &mut HarnessWorld) -> StepResult {
    judge_dimse(world, &["DIM-12"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_new_instances_of_a_patient_of_their_own() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies");
        let fx = crate::model::fixtures::Fixtures::load(&dir).unwrap();
        let series: Vec<FixtureInstance> = fx
            .instances
            .iter()
            .filter(|i| i.ele_path.is_some() && !i.kos)
            .take(2)
            .cloned()
            .collect();
        let out = tempfile::tempdir().unwrap();
        let files = reidentified(&fx, &series, out.path()).unwrap();
        assert_eq!(files.len(), 2);
        for (f, i) in files.iter().zip(&series) {
            let copy = dicom_object::open_file(&f.path).unwrap();
            let twin = dicom_object::open_file(f.fallback.as_ref().unwrap()).unwrap();
            let text = |o: &dicom_object::DefaultDicomObject, t| {
                o.element(t)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .trim_end_matches(['\0', ' '])
                    .to_string()
            };
            assert_ne!(text(&copy, tags::SOP_INSTANCE_UID), i.sop_uid);
            assert_ne!(text(&copy, tags::STUDY_INSTANCE_UID), i.study_uid);
            assert!(text(&copy, tags::PATIENT_ID).starts_with("IHE-COPY-"));
            assert_ne!(text(&copy, tags::PATIENT_ID), i.patient_id);
            for t in [
                tags::SOP_INSTANCE_UID,
                tags::SERIES_INSTANCE_UID,
                tags::PATIENT_ID,
            ] {
                assert_eq!(text(&copy, t), text(&twin, t));
            }
            assert_eq!(
                copy.meta().transfer_syntax().trim_end_matches('\0'),
                i.transfer_syntax
            );
        }
    }
}
