//! The node's beat (presence with expiry), the sweep that announces dead nodes' peers, the
//! reconciliation after Redis was away, and the publisher of signals and leaves.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::{lock, lua, Inner, Outgoing, BEAT_EVERY, PRESENCE_TTL};

/// Signals and leaves published per round trip.
const PUBLISH_BATCH: usize = 512;

/// Beats, sweeps and reconciles every [`BEAT_EVERY`] until stopped.
pub(super) async fn run(inner: Arc<Inner>) {
    let mut tick = tokio::time::interval(BEAT_EVERY);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // Redis's run id: a new one means Redis restarted empty (nobody was told anyone left).
    let mut run_id: Option<String> = None;
    loop {
        tokio::select! {
            _ = inner.stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        if inner.handing_over.load(Ordering::Relaxed) {
            return;
        }
        match beat(&inner).await {
            Ok(id) => {
                if !inner.beating.swap(true, Ordering::Relaxed) {
                    tracing::info!(node = %inner.node, "cluster: Redis reachable");
                }
                let restarted = run_id.as_ref().is_some_and(|old| *old != id);
                run_id = Some(id);
                // Cleared before reconciling: whatever is lost meanwhile sets it again.
                if (inner.dirty.swap(false, Ordering::Relaxed) | restarted)
                    && reconcile(&inner, !restarted).await.is_err()
                {
                    inner.dirty.store(true, Ordering::Relaxed);
                }
                if let Err(err) = sweep(&inner).await {
                    tracing::debug!(%err, "cluster: sweep failed");
                }
            }
            Err(err) => {
                if inner.beating.swap(false, Ordering::Relaxed) {
                    tracing::warn!(%err, "cluster: Redis unavailable; new joins are refused until it returns");
                }
                inner.dirty.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// Refreshes this node's presence; returns Redis's run id.
async fn beat(inner: &Inner) -> redis::RedisResult<String> {
    let mut pipe = redis::pipe();
    pipe.cmd("SET")
        .arg(lua::alive_key(&inner.node))
        .arg(1)
        .arg("PX")
        .arg(PRESENCE_TTL.as_millis() as u64)
        .ignore()
        .cmd("SADD")
        .arg(lua::NODES)
        .arg(&inner.node)
        .ignore()
        .cmd("INFO")
        .arg("server");
    let pipe = &pipe;
    let (info,): (String,) = inner
        .call(|mut conn| async move { pipe.query_async(&mut conn).await })
        .await?;
    let id = info
        .lines()
        .find_map(|l| l.strip_prefix("run_id:"))
        .unwrap_or_default();
    Ok(id.trim().to_owned())
}

/// Announces the peers of every node whose presence expired.
async fn sweep(inner: &Inner) -> redis::RedisResult<()> {
    let members = &redis::cmd("SMEMBERS").arg(lua::NODES).clone();
    let nodes: Vec<String> = inner
        .call(|mut conn| async move { members.query_async(&mut conn).await })
        .await?;
    for node in nodes.iter().filter(|n| **n != inner.node) {
        let reap = &inner.scripts.reap.arg(node);
        let gone: i64 = inner
            .call(|mut conn| async move { reap.invoke_async(&mut conn).await })
            .await?;
        if gone > 0 {
            tracing::warn!(%node, peers = gone, "cluster: node stopped beating; its peers left");
        }
    }
    Ok(())
}

/// Makes Redis hold exactly this node's members (see [`lua::reconcile`]).
async fn reconcile(inner: &Inner, announce: bool) -> redis::RedisResult<()> {
    let held: Vec<(String, String)> = {
        let pending = lock(&inner.pending);
        let members = inner.rooms.members();
        members
            .into_iter()
            .chain(pending.iter().map(|(id, p)| (p.room.clone(), id.clone())))
            .collect()
    };
    let mut invocation = inner.scripts.reconcile.prepare_invoke();
    invocation
        .arg(&inner.node)
        .arg(if announce { "1" } else { "0" });
    for (room, peer) in &held {
        invocation.arg(room).arg(peer);
    }
    let invocation = &invocation;
    inner
        .call(|mut conn| async move { invocation.invoke_async::<()>(&mut conn).await })
        .await?;
    tracing::info!(peers = held.len(), "cluster: members reconciled with Redis");
    Ok(())
}

/// Publishes signals and leaves in the order the sockets made them, many per round trip.
pub(super) async fn publish(inner: Arc<Inner>, mut queue: mpsc::Receiver<Outgoing>) {
    let mut batch = Vec::with_capacity(PUBLISH_BATCH);
    loop {
        let stopping = tokio::select! {
            n = queue.recv_many(&mut batch, PUBLISH_BATCH) => n == 0,
            _ = inner.stop.cancelled() => {
                while let Ok(item) = queue.try_recv() {
                    batch.push(item);
                }
                true
            }
        };
        if !batch.is_empty() {
            let mut pipe = redis::pipe();
            for item in &batch {
                match item {
                    Outgoing::Signal { room, event } => {
                        pipe.cmd("PUBLISH")
                            .arg(lua::channel(room))
                            .arg(event)
                            .ignore();
                    }
                    Outgoing::Leave { room, peer } => {
                        pipe.add_command(lua::leave_cmd(&inner.node, room, peer))
                            .ignore();
                    }
                }
            }
            let pipe = &pipe;
            let sent = inner
                .call(|mut conn| async move { pipe.query_async::<()>(&mut conn).await })
                .await;
            if let Err(err) = sent {
                tracing::debug!(items = batch.len(), %err, "cluster: publish failed");
                if batch.iter().any(|i| matches!(i, Outgoing::Leave { .. })) {
                    inner.dirty.store(true, Ordering::Relaxed);
                }
            }
            batch.clear();
        }
        if stopping {
            return;
        }
    }
}
