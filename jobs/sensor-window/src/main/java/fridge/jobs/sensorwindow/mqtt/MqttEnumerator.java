package fridge.jobs.sensorwindow.mqtt;

import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;

import java.util.ArrayList;
import java.util.List;

/**
 * Hands the one split (one MQTT session) to a reader. Every subscriber of a topic filter receives every message,
 * so more sessions on the same filter would read each reading several times: the source runs one session, at
 * parallelism 1, and readers without a split stay idle. A split handed out after the last checkpoint comes back
 * through {@link #addSplitsBack} when its reader fails, and goes to the next reader that registers.
 */
final class MqttEnumerator implements SplitEnumerator<MqttSplit, List<MqttSplit>> {
    private final SplitEnumeratorContext<MqttSplit> context;
    private final List<MqttSplit> unassigned;

    MqttEnumerator(SplitEnumeratorContext<MqttSplit> context, List<MqttSplit> unassigned) {
        this.context = context;
        this.unassigned = new ArrayList<>(unassigned);
    }

    @Override
    public void start() {}

    @Override
    public void handleSplitRequest(int subtaskId, String requesterHostname) {}

    @Override
    public void addSplitsBack(List<MqttSplit> splits, int subtaskId) {
        unassigned.addAll(splits);
        assignPending();
    }

    @Override
    public void addReader(int subtaskId) {
        assignPending();
    }

    private void assignPending() {
        if (unassigned.isEmpty() || context.registeredReaders().isEmpty()) return;
        int reader = context.registeredReaders().keySet().stream().min(Integer::compare).orElseThrow();
        for (MqttSplit s : unassigned) context.assignSplit(s, reader);
        unassigned.clear();
    }

    @Override
    public List<MqttSplit> snapshotState(long checkpointId) {
        return new ArrayList<>(unassigned);
    }

    @Override
    public void close() {}
}
