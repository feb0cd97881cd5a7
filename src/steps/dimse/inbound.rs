//! What the SUT sent to the harness's DICOM SCP (the C-MOVE destination and the Storage SCP a
//! modality SUT stores to), read from the simulator's inbox.
//!
//! A C-MOVE's C-STORE sub-operations may carry the Move Originator AE Title and Message ID of the
//! C-MOVE, but PS3.7 Table 9.1-1 makes both a user option (U): a server may leave them out or fill
//! them with its own AE title. So the harness does not find a move's instances by them. It lets one
//! inbound session at a time use its SCP ([`session`]): whatever the SUT sends to the SCP between
//! the C-MOVE-RQ and the end of the move's sub-associations belongs to that move. The harness's
//! own associations (its SCU's calling AE title: the scenarios that store into the embedded
//! reference, which is also the SCP) are left out, and so is a sub-operation whose Move
//! Originator names another C-MOVE of this harness (a straggler of an earlier move).
//!
//! The associations the SCP refused in that time are collected too: a refusal must be seen in the
//! scenario's evidence, with its reason, not only as "nothing arrived".

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::dimse::command::field;
use crate::evidence::Exchange;
use crate::transaction::Transaction;
use crate::world::HarnessWorld;

/// The lock that gives one scenario at a time the harness's SCP.
pub(crate) fn session() -> &'static tokio::sync::Mutex<()> {
    static LOCK: OnceLock<tokio::sync::Mutex<()>> = OnceLock::new();
    LOCK.get_or_init(|| tokio::sync::Mutex::new(()))
}

/// An AE title as compared: leading and trailing spaces and NULs are not significant (PS3.8
/// §9.3.2: spaces; NUL padding seen from real SCUs is accepted alike).
pub(super) fn ae(title: &str) -> &str {
    title.trim_matches([' ', '\0'])
}

/// What the harness's SCP received after a mark.
#[derive(Debug, Default, Clone)]
pub(super) struct Inbound {
    /// Inbound C-STORE operations (one exchange each).
    pub stores: Vec<Exchange>,
    /// Associations the SCP refused (A-ASSOCIATE-RJ), or that ended during negotiation.
    pub refused: Vec<Exchange>,
}

/// The harness SCU's own calling AE title: associations from it are the harness's, not the SUT's.
fn own_ae(world: &HarnessWorld) -> String {
    world
        .ctx
        .config
        .dimse
        .as_ref()
        .map(|d| ae(&d.calling_ae).to_string())
        .unwrap_or_default()
}

/// Read the inbox from `mark`: the SUT's C-STOREs that `keep` accepts, and the refused associations.
fn scan(world: &HarnessWorld, mark: usize, keep: &dyn Fn(&Exchange) -> bool) -> Inbound {
    let mut got = Inbound::default();
    let Some(sim) = world.ctx.simulator.clone() else {
        return got;
    };
    let own = own_ae(world);
    let mut i = mark;
    while let Some(ex) = sim.inbox.get(i) {
        i += 1;
        if ex.transaction != Transaction::Dimse {
            continue;
        }
        let Some(r) = ex.dimse.as_deref() else {
            continue;
        };
        if ae(&r.calling_ae) == own && !own.is_empty() {
            continue;
        }
        if ex.request.method == "A-ASSOCIATE-RQ"
            && (r.rejection.is_some() || r.ended.starts_with("closed during negotiation"))
        {
            got.refused.push(ex);
        } else if ex.request.method == "C-STORE-RQ"
            && r.received(field::C_STORE_RQ).next().is_some()
            && keep(&ex)
        {
            got.stores.push(ex);
        }
    }
    got
}

/// Has every association that delivered `stores` ended (its end is recorded after `mark`)?
fn all_ended(world: &HarnessWorld, mark: usize, stores: &[Exchange]) -> bool {
    let Some(sim) = world.ctx.simulator.clone() else {
        return true;
    };
    let mut ended = std::collections::BTreeSet::new();
    let mut i = mark;
    while let Some(ex) = sim.inbox.get(i) {
        i += 1;
        if ex.request.method == "A-ASSOCIATE-RQ" {
            if let Some(r) = ex.dimse.as_deref() {
                ended.insert(r.peer.clone());
            }
        }
    }
    stores
        .iter()
        .filter_map(|e| e.dimse.as_deref())
        .all(|r| ended.contains(&r.peer))
}

/// What a C-MOVE with Message ID `move_id` from `originator` delivered to the harness's SCP after
/// `mark`: every C-STORE the SUT sent in that time, except one whose Move Originator names another
/// C-MOVE of the harness. Waits (up to `wait`) for the sub-associations to end, so that their last
/// operations are in.
pub(super) async fn moved(
    world: &HarnessWorld,
    mark: usize,
    originator: &str,
    move_id: u16,
    wait: Duration,
) -> Inbound {
    let originator = ae(originator).to_string();
    let ours = move |ex: &Exchange| {
        ex.dimse.as_deref().is_some_and(|r| {
            r.received(field::C_STORE_RQ).all(|m| {
                let c = &m.command;
                let other_move = c.move_originator_ae.as_deref().map(ae) == Some(&originator)
                    && c.move_originator_id.is_some_and(|id| id != move_id);
                !other_move
            })
        })
    };
    let deadline = Instant::now() + wait;
    loop {
        let got = scan(world, mark, &ours);
        if all_ended(world, mark, &got.stores) || Instant::now() >= deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Everything the SUT sent to the harness's SCP after `mark` (a SUT asked to store).
pub(super) fn since(world: &HarnessWorld, mark: usize) -> Inbound {
    scan(world, mark, &|_| true)
}

/// Has the association of `calling` (a SUT storing) ended since `mark`?
pub(super) fn ended_from(world: &HarnessWorld, mark: usize, calling: &str) -> bool {
    let Some(sim) = world.ctx.simulator.clone() else {
        return false;
    };
    let mut i = mark;
    while let Some(ex) = sim.inbox.get(i) {
        i += 1;
        if ex.request.method == "A-ASSOCIATE-RQ"
            && ex
                .dimse
                .as_deref()
                .is_some_and(|r| ae(&r.calling_ae) == ae(calling) && r.ended != "open")
        {
            return true;
        }
    }
    false
}

/// One line per refused association: who called, the A-ASSOCIATE-RJ and why.
pub(super) fn refusals(refused: &[Exchange]) -> String {
    refused
        .iter()
        .filter_map(|ex| ex.dimse.as_deref())
        .map(|r| {
            let rj = r.rejection.as_ref().map_or_else(
                || r.ended.clone(),
                |rj| {
                    let why = r
                        .ended
                        .strip_prefix("rejected: ")
                        .map(|w| format!(": {w}"))
                        .unwrap_or_default();
                    format!(
                        "A-ASSOCIATE-RJ result {}, source {}, reason {} ({}){why}",
                        rj.result, rj.source, rj.reason, rj.text
                    )
                },
            );
            format!(
                "the harness's SCP refused the association from {} (called AE title {}): {rj}",
                shown_ae(&r.calling_ae),
                shown_ae(&r.called_ae)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// An AE title for a message: its text, with any NUL bytes counted rather than printed.
pub(super) fn shown_ae(title: &str) -> String {
    let nuls = title.bytes().filter(|b| *b == 0).count();
    let text: String = title.chars().filter(|c| *c != '\0').collect();
    let text = text.trim();
    match nuls {
        0 => format!("`{text}`"),
        n => format!("`{text}` (with {n} NUL bytes)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ae_titles_compare_without_padding() {
        assert_eq!(ae(" HARNESS\0\0\0 "), "HARNESS");
        assert_eq!(shown_ae("HARNESS\0\0"), "`HARNESS` (with 2 NUL bytes)");
        assert_eq!(shown_ae("ORTHANC"), "`ORTHANC`");
    }
}
