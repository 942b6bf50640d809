package fridge.jobs.sensorwindow.mqtt;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * The bookkeeping behind "acknowledge only after the checkpoint that covers it, and drop what that checkpoint
 * already holds" (the pattern of Flink's RabbitMQ source, MessageAcknowledgingSourceBase), without Flink or MQTT:
 * pure, single-threaded (the reader's task thread), unit-tested.
 *
 * <p>Every message received (emitted, skipped as a duplicate, or unusable) is acknowledged to the broker only once
 * the first checkpoint taken after it completes. Until the broker has certainly seen that acknowledgement, the
 * message's id stays <em>held</em>: in the de-duplication set and in every checkpoint. So when the job restores a
 * checkpoint, the broker redelivers exactly the messages it has no acknowledgement for, and those of them the
 * checkpoint already counted are recognised by id and dropped (acknowledged, not emitted again).
 *
 * <p>An acknowledgement is certainly seen once a later request on the same connection has been answered (MQTT
 * connections are ordered): the reader sends the acknowledgements of a completed checkpoint, then a round trip,
 * and {@link #confirm}s the batch when that round trip returns. Ids restored from a checkpoint are kept until the
 * first new message arrives (the broker redelivers unacknowledged messages first, in order), then follow the
 * normal path: held until the next checkpoint completes and is confirmed.
 *
 * @param <H> what acknowledges one delivery (the MQTT packet id); null when there is nothing to acknowledge
 */
public final class AckLedger<H> {
    private record Entry<H>(String id, H handle) {}

    /** A completed checkpoint's deliveries: acknowledge the handles, then confirm the batch. */
    public record Batch<H>(List<H> handles, List<String> ids) {
        public boolean isEmpty() {
            return handles.isEmpty() && ids.isEmpty();
        }
    }

    /** Held ids, counted: a redelivered duplicate holds its id again until its own acknowledgement is confirmed. */
    private final Map<String, Integer> held = new HashMap<>();
    private List<Entry<H>> sinceSnapshot = new ArrayList<>();
    private final NavigableMap<Long, List<Entry<H>>> byCheckpoint = new TreeMap<>();
    private final Set<String> restored = new HashSet<>();

    /** Ids of a restored checkpoint: held, so their redeliveries are dropped. */
    public void restore(Collection<String> ids) {
        for (String id : ids) {
            if (restored.add(id)) hold(id);
        }
    }

    /**
     * A delivery with its id: true when it is new (emit it), false when its id is held (a redelivery of a message
     * already counted: do not emit it). Either way it is acknowledged after the next checkpoint completes.
     */
    public boolean receive(String id, H handle) {
        if (restored.remove(id)) {
            sinceSnapshot.add(new Entry<>(id, handle));
            return false;
        }
        if (held.containsKey(id)) {
            hold(id);
            sinceSnapshot.add(new Entry<>(id, handle));
            return false;
        }
        if (!restored.isEmpty()) {
            // The first new message: every redelivery came before it. The restored ids left were acknowledged
            // before the restore; they go the normal way (checkpoint, confirmation) rather than at once.
            for (String r : restored) sinceSnapshot.add(new Entry<>(r, null));
            restored.clear();
        }
        hold(id);
        sinceSnapshot.add(new Entry<>(id, handle));
        return true;
    }

    /** A delivery that is not a reading (unparsable, retained): acknowledged after the next checkpoint, no id. */
    public void skip(H handle) {
        if (handle != null) sinceSnapshot.add(new Entry<>(null, handle));
    }

    /** Checkpoint {@code checkpointId} is being taken: the ids to store in it (every held id). */
    public List<String> snapshot(long checkpointId) {
        if (!sinceSnapshot.isEmpty()) {
            byCheckpoint.computeIfAbsent(checkpointId, k -> new ArrayList<>()).addAll(sinceSnapshot);
            sinceSnapshot = new ArrayList<>();
        }
        return new ArrayList<>(held.keySet());
    }

    /**
     * Checkpoint {@code checkpointId} completed (and so did every earlier one: Flink may skip notifications): what
     * was received before it was taken may now be acknowledged. Its ids stay held until {@link #confirm}.
     */
    public Batch<H> complete(long checkpointId) {
        List<H> handles = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        NavigableMap<Long, List<Entry<H>>> done = byCheckpoint.headMap(checkpointId, true);
        for (List<Entry<H>> entries : done.values()) {
            for (Entry<H> e : entries) {
                if (e.handle() != null) handles.add(e.handle());
                if (e.id() != null) ids.add(e.id());
            }
        }
        done.clear();
        return new Batch<>(handles, ids);
    }

    /** The broker has certainly received the batch's acknowledgements: its ids need no de-duplication any more. */
    public void confirm(Batch<H> batch) {
        for (String id : batch.ids()) {
            Integer n = held.get(id);
            if (n == null) continue;
            if (n <= 1) held.remove(id);
            else held.put(id, n - 1);
        }
    }

    /** How many ids are held (in the de-duplication set and in the next checkpoint). */
    public int heldCount() {
        return held.size();
    }

    private void hold(String id) {
        held.merge(id, 1, Integer::sum);
    }
}
